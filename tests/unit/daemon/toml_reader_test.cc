// Unit tests for daemon/toml_reader.h, the TOML subset of wsgid.toml, read
// line by line. (What the values mean to wsgid is config_file_test.cc's.)
#include "daemon/toml_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgid {
namespace {

TEST(TomlReaderTest, ReadsKeyValueLinesThenStops) {
  std::string text =
      "# a comment\n"
      "name = 'x' # trailing\n"
      "\n"
      "list = [1, \"two\",\n"
      "  false, # inside\n"
      "]\n";
  TomlReader reader(text);
  std::string key;
  TomlValue value;
  bool done = true;
  ASSERT_TRUE(reader.Next(&key, &value, &done).ok());
  EXPECT_FALSE(done);
  EXPECT_EQ(key, "name");
  EXPECT_EQ(value.type, TomlValue::Type::kString);
  EXPECT_EQ(value.text, "x");
  EXPECT_EQ(reader.line(), 2);
  TomlValue list;
  ASSERT_TRUE(reader.Next(&key, &list, &done).ok());
  EXPECT_EQ(key, "list");
  ASSERT_EQ(list.type, TomlValue::Type::kArray);
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[0].type, TomlValue::Type::kInteger);
  EXPECT_EQ(list.items[1].text, "two");
  EXPECT_EQ(list.items[2].type, TomlValue::Type::kBool);
  ASSERT_TRUE(reader.Next(&key, &value, &done).ok());
  EXPECT_TRUE(done);
}

TEST(TomlReaderTest, ErrorsNameTheLine) {
  std::string text = "a = 1\nb = 2\nc = oops\n";
  TomlReader reader(text);
  std::string key;
  TomlValue value;
  bool done = false;
  ASSERT_TRUE(reader.Next(&key, &value, &done).ok());
  ASSERT_TRUE(reader.Next(&key, &value, &done).ok());
  Status s = reader.Next(&key, &value, &done);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("line 3: ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("'c'"), std::string::npos) << s.message();
}

TEST(TomlReaderTest, TypeNames) {
  TomlValue value;
  value.type = TomlValue::Type::kFloat;
  EXPECT_STREQ(value.TypeName(), "a float");
  value.type = TomlValue::Type::kArray;
  EXPECT_STREQ(value.TypeName(), "an array");
}

}  // namespace
}  // namespace wsgid
