// $NOTIFY_SOCKET's address: a path or the abstract namespace.
#include "daemon/systemd_notify.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

namespace wsgid {
namespace {

TEST(ParseNotifySocketTest, AFilePath) {
  auto a = ParseNotifySocket("/run/systemd/notify");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->addr.sun_family, AF_UNIX);
  EXPECT_STREQ(a->addr.sun_path, "/run/systemd/notify");
  EXPECT_EQ(a->length, offsetof(sockaddr_un, sun_path) + 19);
}

TEST(ParseNotifySocketTest, TheAbstractNamespace) {
  auto a = ParseNotifySocket("@wsgid/notify");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->addr.sun_path[0], '\0');
  EXPECT_EQ(std::string(a->addr.sun_path + 1, 12), "wsgid/notify");
  EXPECT_EQ(a->length, offsetof(sockaddr_un, sun_path) + 13);
}

TEST(ParseNotifySocketTest, EmptyOrTooLongIsNone) {
  EXPECT_FALSE(ParseNotifySocket("").has_value());
  EXPECT_FALSE(ParseNotifySocket("/" + std::string(200, 'x')).has_value());
}

}  // namespace
}  // namespace wsgid
