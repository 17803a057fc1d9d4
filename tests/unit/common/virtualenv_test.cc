#include "common/virtualenv.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/status_codes.h"

namespace wsgid {
namespace {

TEST(VirtualenvTest, PyvenvVersionReadsVenvAndVirtualenvKeys) {
  EXPECT_EQ(*PyvenvVersion("home = /usr/bin\ninclude-system-site-packages = "
                           "false\nversion = 3.11.2\n"),
            "3.11.2");
  // virtualenv and uv write version_info.
  EXPECT_EQ(*PyvenvVersion("home=/opt/py/bin\nversion_info=3.12.1.final.0\n"),
            "3.12.1.final.0");
  EXPECT_EQ(PyvenvVersion("home = /usr/bin\n").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(PyvenvVersion("version = banana\n").status().code(),
            StatusCode::kNotFound);
}

TEST(VirtualenvTest, MajorMinor) {
  EXPECT_EQ(MajorMinor("3.12.1"), "3.12");
  EXPECT_EQ(MajorMinor("3.9.18"), "3.9");
  EXPECT_EQ(MajorMinor("3.13.0rc1"), "3.13");
  EXPECT_EQ(MajorMinor("3.12.1.final.0"), "3.12");
  EXPECT_EQ(MajorMinor("3"), "");
  EXPECT_EQ(MajorMinor(".3"), "");
  EXPECT_EQ(MajorMinor("x.1"), "");
  EXPECT_EQ(MajorMinor(""), "");
}

class VirtualenvDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgid-venv-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/pyvenv.cfg").c_str());
    ::rmdir(dir_.c_str());
  }
  void WriteCfg(const std::string& text) {
    std::ofstream(dir_ + "/pyvenv.cfg") << text;
  }
  std::string dir_;
};

TEST_F(VirtualenvDirTest, SameMajorMinorPasses) {
  WriteCfg("home = /usr/bin\nversion = 3.11.9\n");
  EXPECT_TRUE(CheckVirtualenv(dir_, "3.11.2").ok());
  EXPECT_TRUE(CheckVirtualenv(dir_ + "/", "3.11.2").ok());
}

TEST_F(VirtualenvDirTest, OtherVersionIsRefusedNamingBoth) {
  WriteCfg("home = /usr/bin\nversion = 3.12.1\n");
  Status s = CheckVirtualenv(dir_, "3.11.2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExitCodeFor(Program::kDaemon, s), 2);
  EXPECT_NE(s.message().find("Python 3.12.1"), std::string::npos);
  EXPECT_NE(s.message().find("Python 3.11.2"), std::string::npos);
}

TEST_F(VirtualenvDirTest, NoPyvenvCfgIsNoVirtualenv) {
  Status s = CheckVirtualenv(dir_, "3.11.2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not a virtualenv"), std::string::npos);
}

TEST_F(VirtualenvDirTest, CfgWithoutVersionIsRefused) {
  WriteCfg("home = /usr/bin\n");
  EXPECT_EQ(CheckVirtualenv(dir_, "3.11.2").code(),
            StatusCode::kInvalidArgument);
}

TEST(VirtualenvTest, PythonPathFallsBackToBinPython) {
  EXPECT_EQ(VirtualenvPython("/nonexistent/venv/"),
            "/nonexistent/venv/bin/python");
}

TEST(VirtualenvPathTest, AbsolutePathFromNormalisesAsPythonsAbspath) {
  EXPECT_EQ(AbsolutePathFrom("venv", "/tmp/x"), "/tmp/x/venv");
  EXPECT_EQ(AbsolutePathFrom("./venv/", "/tmp/x"), "/tmp/x/venv");
  EXPECT_EQ(AbsolutePathFrom("app/../venv", "/tmp/x/"), "/tmp/x/venv");
  EXPECT_EQ(AbsolutePathFrom("../../../v", "/tmp/x"), "/v");
  EXPECT_EQ(AbsolutePathFrom("/srv//app/venv/", "/tmp/x"), "/srv/app/venv");
  EXPECT_EQ(AbsolutePathFrom(".", "/"), "/");
  EXPECT_EQ(AbsolutePathFrom("", "/tmp/x"), "");
}

TEST_F(VirtualenvDirTest, VirtualenvHoldingFindsTheVenvOfItsBinFolder) {
  EXPECT_EQ(VirtualenvHolding(dir_ + "/bin/wsgid"), "");
  WriteCfg("home = /usr/bin\nversion = 3.11.2\n");
  EXPECT_EQ(VirtualenvHolding(dir_ + "/bin/wsgid"), dir_);
  EXPECT_EQ(VirtualenvHolding(dir_ + "/wsgid"), "");  // not in its bin/
  EXPECT_EQ(VirtualenvHolding("wsgid"), "");
}

}  // namespace
}  // namespace wsgid
