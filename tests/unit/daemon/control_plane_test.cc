// The control plane's configuration: the control API's options. Starting the
// servers is the integration tier's (sockets).
#include "daemon/control_plane.h"

#include <gtest/gtest.h>

#include <string>

#include "common/control_socket.h"

namespace wsgid {
namespace {

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
