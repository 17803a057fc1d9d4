// The pid file: its name for a USR2 master, atomic write, removal only while
// it is still ours. In a temporary directory.
#include "daemon/pid_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace wsgid {
namespace {

class PidFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/wsgid-pidfile-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/wsgid.pid";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static bool Exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
  }

  std::string dir_, path_;
};

TEST(PidFilePathTest, AUsr2MasterTakesDotTwo) {
  EXPECT_EQ(PidFilePath("/run/wsgid.pid", false), "/run/wsgid.pid");
  EXPECT_EQ(PidFilePath("/run/wsgid.pid", true), "/run/wsgid.pid.2");
  EXPECT_EQ(PidFilePath("", true), "");
}

TEST_F(PidFileTest, WritesThePidAndRemovesItAtExit) {
  PidFile file;
  file.Write(path_, 4242);
  EXPECT_EQ(Read(path_), "4242\n");
  EXPECT_EQ(file.path(), path_);
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  file.Remove(4242);
  EXPECT_FALSE(Exists(path_));
}

TEST_F(PidFileTest, AFileANewerMasterTookOverIsLeftAlone) {
  PidFile file;
  file.Write(path_, 4242);
  std::ofstream(path_) << "5151\n";
  file.Remove(4242);
  EXPECT_EQ(Read(path_), "5151\n");
}

TEST_F(PidFileTest, NoPathWritesNothing) {
  PidFile file;
  file.Write("", 4242);
  EXPECT_EQ(file.path(), "");
  file.Remove(4242);  // nothing to remove
}

TEST_F(PidFileTest, AnUnwritableDirectoryIsLoggedNotFatal) {
  PidFile file;
  file.Write(dir_ + "/missing/wsgid.pid", 4242);
  EXPECT_EQ(file.path(), "");
}

}  // namespace
}  // namespace wsgid
