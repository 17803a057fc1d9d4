// The master-side server hooks room: which events MasterHooks sends at the
// supervisor's moments (through a fake channel), and the real HookHelper
// channel against a stand-in helper (a shell script answering "done" per line
// on its fd 0) for its queue bound, drain and restart after a death.
#include "daemon/master_hooks.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "daemon/config_file.h"
#include "daemon/hook_helper.h"

namespace wsgid {
namespace {

using nlohmann::json;

class FakeChannel : public HookChannel {
 public:
  void Configure(const Config& config, int64_t) override {
    configured.push_back(config.worker_hooks_file);
  }
  void Send(std::string line) override { events.push_back(json::parse(line)); }
  void Pump(int64_t) override { ++pumps; }
  bool OnReaped(pid_t pid, int, int64_t) override { return pid == helper; }
  bool Drain(int64_t deadline_ns) override {
    drained_until = deadline_ns;
    return true;
  }
  std::vector<std::string> Hooks() const {
    std::vector<std::string> out;
    for (const json& e : events) out.push_back(e["hook"]);
    return out;
  }

  std::vector<std::string> configured;
  std::vector<json> events;
  int pumps = 0;
  pid_t helper = 0;
  int64_t drained_until = 0;
};

Config WithHooks() {
  Config config;
  config.worker_hooks_file = "/srv/gunicorn.conf.py";
  return config;
}

TEST(MasterHooksTest, StartingSetsTheCountThenCallsOnStarting) {
  FakeChannel channel;
  MasterHooks hooks(&channel);
  hooks.Starting(WithHooks(), 3, 0);
  EXPECT_TRUE(hooks.enabled());
  EXPECT_EQ(channel.configured,
            std::vector<std::string>{"/srv/gunicorn.conf.py"});
  ASSERT_EQ(channel.Hooks(),
            (std::vector<std::string>{"nworkers_changed", "on_starting"}));
  EXPECT_EQ(channel.events[0]["new_value"], 3);
  EXPECT_TRUE(channel.events[0]["old_value"].is_null());
  EXPECT_EQ(channel.events[1]["num_workers"], 3);
}

TEST(MasterHooksTest, WithoutAHooksFileNothingIsSentButAgesCount) {
  FakeChannel channel;
  MasterHooks hooks(&channel);
  hooks.Starting(Config(), 2, 0);
  EXPECT_FALSE(hooks.enabled());
  EXPECT_EQ(hooks.PreFork(), 1);
  EXPECT_EQ(hooks.PreFork(), 2);
  hooks.Forked(100, 1);
  hooks.ChildExited(100, 0);
  hooks.DesiredIs(5);
  hooks.Ready();
  hooks.PreExec(99);
  hooks.Exiting(123);
  hooks.Pump(0);
  EXPECT_TRUE(channel.events.empty());
  EXPECT_EQ(channel.drained_until, 0);  // nothing is waited for
  EXPECT_EQ(channel.pumps, 0);
}

TEST(MasterHooksTest, ForkAndExitCarryTheWorkersAgeAndPid) {
  FakeChannel channel;
  MasterHooks hooks(&channel);
  hooks.Starting(WithHooks(), 2, 0);
  channel.events.clear();
  int first = hooks.PreFork();
  hooks.Forked(4242, first);
  int second = hooks.PreFork();
  hooks.Forked(4243, second);
  EXPECT_EQ(channel.Hooks(),
            (std::vector<std::string>{"pre_fork", "pre_fork"}));
  EXPECT_EQ(channel.events[0]["worker"]["pid"], "[booting]");  // as Gunicorn
  EXPECT_EQ(channel.events[1]["worker"]["age"], 2);
  channel.events.clear();
  hooks.ChildExited(4243, W_EXITCODE(0, SIGKILL));  // killed
  hooks.ChildExited(4242, W_EXITCODE(1, 0));        // exit code 1
  hooks.ChildExited(9999, 0);  // not a worker (an orphan, the helper)
  ASSERT_EQ(channel.Hooks(),
            (std::vector<std::string>{"child_exit", "child_exit"}));
  EXPECT_EQ(channel.events[0]["worker"]["pid"], 4243);
  EXPECT_EQ(channel.events[0]["worker"]["age"], 2);
  EXPECT_EQ(channel.events[0]["worker"]["exitcode"], -SIGKILL);
  EXPECT_EQ(channel.events[1]["worker"]["exitcode"], 1);
  hooks.ChildExited(4242, 0);  // reaped once: no second event
  EXPECT_EQ(channel.events.size(), 2u);
}

TEST(MasterHooksTest, NworkersChangedOnlyOnAChangeWithTheOldValue) {
  FakeChannel channel;
  MasterHooks hooks(&channel);
  hooks.Starting(WithHooks(), 2, 0);
  channel.events.clear();
  hooks.DesiredIs(2);
  EXPECT_TRUE(channel.events.empty());
  hooks.DesiredIs(3);
  hooks.DesiredIs(3);
  hooks.DesiredIs(1);
  ASSERT_EQ(channel.events.size(), 2u);
  EXPECT_EQ(channel.events[0]["new_value"], 3);
  EXPECT_EQ(channel.events[0]["old_value"], 2);
  EXPECT_EQ(channel.events[1]["new_value"], 1);
  EXPECT_EQ(channel.events[1]["old_value"], 3);
  EXPECT_EQ(channel.events[1]["num_workers"], 1);
}

TEST(MasterHooksTest, ReloadRestartsTheHelperBeforeOnReload) {
  FakeChannel channel;
  MasterHooks hooks(&channel);
  hooks.Starting(WithHooks(), 2, 0);
  channel.events.clear();
  Config next = WithHooks();
  next.worker_hooks_file = "/srv/new.conf.py";
  hooks.Reloaded(next, 5);
  EXPECT_EQ(channel.configured.back(), "/srv/new.conf.py");
  EXPECT_EQ(channel.Hooks(), std::vector<std::string>{"on_reload"});
  // A reload that drops the hooks stops the helper and sends nothing more.
  hooks.Reloaded(Config(), 6);
  EXPECT_EQ(channel.configured.back(), "");
  EXPECT_EQ(channel.events.size(), 1u);
  EXPECT_FALSE(hooks.enabled());
}

TEST(MasterHooksTest, TheMomentsInOrderAndOnExitIsAwaited) {
  FakeChannel channel;
  channel.helper = 77;
  MasterHooks hooks(&channel);
  hooks.Starting(WithHooks(), 1, 0);
  hooks.Ready();
  hooks.PreExec(3'000'000'000);
  // pre_exec is awaited before the caller starts the new master.
  EXPECT_EQ(channel.drained_until, 3'000'000'000);
  EXPECT_EQ(channel.Hooks().back(), "pre_exec");
  hooks.Pump(1);
  EXPECT_EQ(channel.pumps, 1);
  EXPECT_TRUE(hooks.OnReaped(77, 0, 1));
  EXPECT_FALSE(hooks.OnReaped(78, 0, 1));
  hooks.Exiting(5'000'000'000);
  EXPECT_EQ(channel.Hooks(),
            (std::vector<std::string>{"nworkers_changed", "on_starting",
                                      "when_ready", "pre_exec", "on_exit"}));
  EXPECT_EQ(channel.drained_until, 5'000'000'000);
}

// The real channel, against a stand-in helper.
class HookHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/wsgid-hook-helper-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::remove((dir_ + "/helper").c_str());
    std::remove((dir_ + "/seen").c_str());
    ::rmdir(dir_.c_str());
  }
  // A helper that appends each line to `seen` and answers "done" on fd 0;
  // `prelude` runs first.
  // `answer` is the shell command that answers.
  std::string WriteHelper(const std::string& prelude = "",
                          const std::string& answer = "echo done >&0") {
    std::string path = dir_ + "/helper";
    std::ofstream(path) << "#!/bin/sh\n"
                        << prelude
                        << "\nwhile read line; do echo \"$line\" >> '" << dir_
                        << "/seen'; " << answer << "; done\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }
  std::string Seen() {
    std::ifstream in(dir_ + "/seen");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Reaps children for `channel` until `pid` is gone or 5 s passed.
  static bool ReapHelper(HookHelper* channel) {
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid > 0 && channel->OnReaped(pid, status, MonotonicNs())) return true;
      ::usleep(10'000);
    }
    return false;
  }
  std::string dir_;
};

TEST_F(HookHelperTest, DeliversInOrderAndDrainsWhenAnswered) {
  HookHelper channel(WriteHelper());
  channel.Configure(WithHooks(), MonotonicNs());
  channel.Send(R"({"hook":"on_starting"})");
  channel.Send(R"({"hook":"when_ready"})");
  EXPECT_TRUE(channel.Drain(MonotonicNs() + 5 * kNsPerSec));
  EXPECT_EQ(Seen(), "{\"hook\":\"on_starting\"}\n{\"hook\":\"when_ready\"}\n");
  channel.Configure(Config(), MonotonicNs());  // stops it: it leaves on EOF
  EXPECT_TRUE(ReapHelper(&channel));
}

TEST_F(HookHelperTest, TheHelpersLogCountsAddUpAcrossHelpers) {
  // Each answer carries the helper's counts so far: N warnings after N events.
  HookHelper channel(
      WriteHelper("n=0", "n=$((n+1)); echo \"done $n 0 0 1\" >&0"));
  channel.Configure(WithHooks(), MonotonicNs());
  channel.Send(R"({"hook":"on_starting"})");
  channel.Send(R"({"hook":"when_ready"})");
  ASSERT_TRUE(channel.Drain(MonotonicNs() + 5 * kNsPerSec));
  EXPECT_EQ(channel.LogRecords(LogCounter::kWarning), 2u);
  EXPECT_EQ(channel.LogRecords(LogCounter::kException), 1u);
  EXPECT_EQ(channel.LogRecords(LogCounter::kError), 0u);
  channel.Configure(WithHooks(), MonotonicNs());  // a reload: a new helper
  EXPECT_EQ(channel.LogRecords(LogCounter::kWarning), 2u);  // kept
  channel.Send(R"({"hook":"on_reload"})");
  ASSERT_TRUE(channel.Drain(MonotonicNs() + 5 * kNsPerSec));
  EXPECT_EQ(channel.LogRecords(LogCounter::kWarning), 3u);  // 2 + its 1
  EXPECT_EQ(channel.LogRecords(LogCounter::kException), 2u);
  channel.Configure(Config(), MonotonicNs());
  EXPECT_TRUE(ReapHelper(&channel));
  EXPECT_TRUE(ReapHelper(&channel));
  EXPECT_EQ(channel.LogRecords(LogCounter::kWarning), 3u);
}

TEST_F(HookHelperTest, AStuckHelperCostsEventsNotTheLoop) {
  HookHelper channel(WriteHelper("sleep 30"));
  channel.Configure(WithHooks(), MonotonicNs());
  for (size_t i = 0; i < HookHelper::kMaxBehind + 50; ++i)
    channel.Send(R"({"hook":"pre_fork"})");  // never blocks: the rest dropped
  EXPECT_EQ(channel.behind(), HookHelper::kMaxBehind);
  int64_t start = MonotonicNs();
  EXPECT_FALSE(channel.Drain(start + kNsPerSec / 5));
  EXPECT_LT(MonotonicNs() - start, 2 * kNsPerSec);  // bounded by the deadline
  ::kill(channel.pid(), SIGKILL);
  EXPECT_TRUE(ReapHelper(&channel));
  EXPECT_EQ(channel.pid(), 0);
  channel.Configure(Config(), MonotonicNs());
}

TEST_F(HookHelperTest, AHelperThatDiesIsStartedAgainAfterABackOff) {
  HookHelper channel(WriteHelper("[ -e '" + dir_ + "/seen' ] || { : > '" +
                                 dir_ + "/seen'; exit 1; }"));
  int64_t now = MonotonicNs();
  channel.Configure(WithHooks(), now);
  ASSERT_TRUE(ReapHelper(&channel));  // the first one exits at once
  channel.Send(R"({"hook":"when_ready"})");
  channel.Pump(now + kNsPerSec / 2);  // still backing off: not started
  EXPECT_FALSE(channel.Drain(MonotonicNs()));
  channel.Pump(MonotonicNs() + 2 * kNsPerSec);  // the back-off is over
  EXPECT_TRUE(channel.Drain(MonotonicNs() + 5 * kNsPerSec));
  EXPECT_EQ(Seen(), "{\"hook\":\"when_ready\"}\n");
  channel.Configure(Config(), MonotonicNs());
  EXPECT_TRUE(ReapHelper(&channel));
}

TEST(GunicornHooksFileTest, AFileWithHooksIsHandedOnAbsoluteWithoutWarning) {
  char path[] = "/tmp/wsgid-hooks-conf-XXXXXX.py";
  int fd = ::mkstemps(path, 3);
  ASSERT_GE(fd, 0);
  std::string text = "workers = 3\ndef post_fork(server, worker):\n  pass\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  ::close(fd);
  Config config;
  std::vector<std::string> warnings;
  ASSERT_TRUE(ApplyGunicornFile(path, &config, &warnings).ok());
  EXPECT_EQ(config.worker_hooks_file, path);
  EXPECT_EQ(config.workers, 3);
  for (const std::string& w : warnings)
    EXPECT_EQ(w.find("post_fork"), std::string::npos) << w;
  // A file without a hook function names none; a hook set to None is unset.
  std::ofstream(path) << "workers = 2\npost_fork = None\n";
  Config plain;
  ASSERT_TRUE(ApplyGunicornFile(path, &plain, &warnings).ok());
  EXPECT_EQ(plain.worker_hooks_file, "");
  std::remove(path);
}

}  // namespace
}  // namespace wsgid
