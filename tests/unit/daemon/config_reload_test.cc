// A reload up to the pool: a fake configuration loader and fake sockets.
#include "daemon/config_reload.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <set>
#include <string>
#include <vector>

namespace wsgid {
namespace {

class FakeSockets : public SocketOps {
 public:
  StatusOr<UniqueFd> Open(const std::string& bind, int) override {
    opened.push_back(bind);
    if (failing.count(bind) != 0) return Status::Unavailable("in use");
    return UniqueFd(::eventfd(0, EFD_CLOEXEC));
  }
  void Adopt(int) override {}
  std::string Describe(int fd) override { return "fd" + std::to_string(fd); }
  int64_t QueueLength(int) override { return 0; }

  std::vector<std::string> opened;
  std::set<std::string> failing;
};

Config Running() {
  Config c;
  c.app = "hello:app";
  c.binds = {"127.0.0.1:8000"};
  c.max_workers = 16;
  return c;
}

class ConfigReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(listeners_.Open(running_.binds, 128).ok());
    sockets_.opened.clear();
  }
  ConfigReload WithNext(Config next) {
    return ConfigReload([next](std::vector<std::string>* warnings) {
      warnings->push_back("a warning for the log");
      return StatusOr<Config>(next);
    });
  }

  Config running_ = Running();
  FakeSockets sockets_;
  ListenerSet listeners_{&sockets_};
};

TEST_F(ConfigReloadTest, AValidConfigurationIsTheNextOne) {
  Config next = Running();
  next.workers = 3;
  next.binds.clear();     // left out: the running binds
  next.max_workers = 64;  // sized the scoreboard: stays
  ConfigReload reload = WithNext(next);
  auto prepared = reload.Prepare(running_, &listeners_);
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_EQ(prepared->workers, 3);
  EXPECT_EQ(prepared->binds, running_.binds);
  EXPECT_EQ(prepared->max_workers, 16);
  EXPECT_TRUE(sockets_.opened.empty());
  EXPECT_EQ(reload.failures(), 0u);
}

TEST_F(ConfigReloadTest, AnInvalidConfigurationIsCountedAndRefused) {
  Config next = Running();
  next.timeout = -1;
  ConfigReload reload = WithNext(next);
  auto prepared = reload.Prepare(running_, &listeners_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(prepared.status().message().rfind("invalid configuration: ", 0),
            0u);
  EXPECT_EQ(reload.failures(), 1u);
}

TEST_F(ConfigReloadTest, AConfigurationThatDoesNotLoadIsCounted) {
  ConfigReload reload([](std::vector<std::string>*) {
    return StatusOr<Config>(Status::InvalidArgument("wsgid.toml:3: bad"));
  });
  auto prepared = reload.Prepare(running_, &listeners_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.status().message().find("wsgid.toml:3"),
            std::string::npos);
  EXPECT_EQ(reload.failures(), 1u);
}

TEST_F(ConfigReloadTest, NewBindsOpenTheirListeners) {
  Config next = Running();
  next.binds = {"127.0.0.1:8000", "127.0.0.1:8001"};
  ConfigReload reload = WithNext(next);
  ASSERT_TRUE(reload.Prepare(running_, &listeners_).ok());
  EXPECT_EQ(sockets_.opened, std::vector<std::string>{"127.0.0.1:8001"});
  EXPECT_EQ(listeners_.size(), 2u);
}

TEST_F(ConfigReloadTest, ABindThatCannotOpenKeepsEverything) {
  std::vector<int> before = listeners_.fds();
  Config next = Running();
  next.binds = {"127.0.0.1:8000", "127.0.0.1:80"};
  sockets_.failing = {"127.0.0.1:80"};
  ConfigReload reload = WithNext(next);
  EXPECT_FALSE(reload.Prepare(running_, &listeners_).ok());
  EXPECT_EQ(listeners_.fds(), before);
  EXPECT_EQ(reload.failures(), 1u);
}

TEST_F(ConfigReloadTest, WithoutALoaderTheRunningConfigurationReloads) {
  ConfigReload reload(nullptr);
  auto prepared = reload.Prepare(running_, &listeners_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->app, running_.app);
}

}  // namespace
}  // namespace wsgid
