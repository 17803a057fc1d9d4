// The bearer token file the master and wsgictl both read.
#include "common/token_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace wsgid {
namespace {

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/wsgid-token-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = path;
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }

  std::string path_;
};

TEST_F(TokenFileTest, TheTokenWithoutSurroundingWhiteSpace) {
  Write("  s3cret-token \r\n\n");
  auto token = ReadTokenFile(path_);
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(*token, "s3cret-token");
}

TEST_F(TokenFileTest, AnEmptyFileIsRefused) {
  Write(" \n\t\n");
  auto token = ReadTokenFile(path_);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(token.status().message().find("is empty"), std::string::npos);
}

TEST_F(TokenFileTest, TwoLinesAreRefused) {
  Write("first\nsecond\n");
  auto token = ReadTokenFile(path_);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("more than one line"),
            std::string::npos);
  EXPECT_EQ(token.status().message().find("second"), std::string::npos)
      << "the token is never echoed";
}

TEST(ReadTokenFileTest, AMissingFileIsRefusedWithItsPath) {
  auto token = ReadTokenFile("/nonexistent/wsgid-token");
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("/nonexistent/wsgid-token"),
            std::string::npos);
}

}  // namespace
}  // namespace wsgid
