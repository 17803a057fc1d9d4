// The control plane's configuration: the control API's options and the token
// file. Starting the servers is the integration tier's (sockets).
#include "daemon/control_plane.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "common/control_socket.h"

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
  Write("  s3cret-token \n\n");
  auto token = ReadControlToken(path_);
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(*token, "s3cret-token");
}

TEST_F(TokenFileTest, AnEmptyFileIsRefused) {
  Write(" \n\t\n");
  auto token = ReadControlToken(path_);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(token.status().message().find("is empty"), std::string::npos);
}

TEST(ReadControlTokenTest, AMissingFileIsRefused) {
  auto token = ReadControlToken("/nonexistent/wsgid-token");
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("--control-token-file"),
            std::string::npos);
}

TEST(ControlApiOptionsForTest, TheDefaultSocketOffOrAPath) {
  Config c;
  c.max_workers = 12;
  ControlApi::Options o = ControlApiOptionsFor(c);
  EXPECT_EQ(o.socket_path, DefaultControlSocketPath());
  EXPECT_EQ(o.max_workers, 12);
  EXPECT_EQ(o.version, WSGID_VERSION);
  EXPECT_TRUE(o.tcp_bind.empty());
  c.control_socket = "off";
  EXPECT_EQ(ControlApiOptionsFor(c).socket_path, "");
  c.control_socket = "/run/wsgid.sock";
  c.control_socket_mode = 0660;
  c.control_bind = "127.0.0.1:9000";
  o = ControlApiOptionsFor(c);
  EXPECT_EQ(o.socket_path, "/run/wsgid.sock");
  EXPECT_EQ(o.socket_mode, 0660);
  EXPECT_EQ(o.tcp_bind, "127.0.0.1:9000");
}

}  // namespace
}  // namespace wsgid
