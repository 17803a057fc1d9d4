// What each command does to the running pool: a WorkerPool over fake
// processes, a real scoreboard (a memfd), fake listeners and a fake
// configuration loader. No processes, no sockets, a fake clock.
#include "daemon/pool_commands.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;

class FakeProcesses : public ProcessControl {
 public:
  StatusOr<pid_t> Spawn(int, int) override { return next_pid_++; }
  void Signal(pid_t pid, int sig) override { signals.emplace_back(pid, sig); }
  WorkerObservation Observe(int) override {
    WorkerObservation o;
    o.heartbeat_ns = kSec;
    o.threads.emplace_back();
    return o;
  }
  uint64_t RequestsServed(int) override { return 0; }
  int64_t ResidentMemory(pid_t) override { return 0; }

  std::vector<std::pair<pid_t, int>> signals;

 private:
  pid_t next_pid_ = 100;
};

class FakeSockets : public SocketOps {
 public:
  StatusOr<UniqueFd> Open(const std::string& bind, int) override {
    if (bind == "bad:1") return Status::Unavailable("in use");
    return UniqueFd(::eventfd(0, EFD_CLOEXEC));
  }
  void Adopt(int) override {}
  std::string Describe(int) override { return "socket"; }
  int64_t QueueLength(int) override { return 0; }
};

Config Running() {
  Config c;
  c.app = "hello:app";
  c.binds = {"127.0.0.1:8000"};
  c.workers = 2;
  c.threads = 2;
  c.max_threads = 8;
  return c;
}

class PoolCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto board = Scoreboard::Create(8);
    ASSERT_TRUE(board.ok());
    slots_ = std::make_unique<WorkerSlots>(std::move(board).value());
    PoolOptions options = PoolOptions::FromConfig(config_);
    options.max_ids = 8;
    pool_ = std::make_unique<WorkerPool>(&processes_, options);
    ASSERT_TRUE(listeners_.Open(config_.binds, 16).ok());
    commands_ = std::make_unique<PoolCommands>(PoolCommands::Parts{
        &config_, pool_.get(), slots_.get(), &autoscaler_, &reload_,
        &listeners_, [this](bool graceful) { stops_.push_back(graceful); }});
    pool_->Start(kSec);
    for (const auto& [pid, w] : std::map(pool_->workers()))
      pool_->OnReady(pid, kSec);
    pool_->FinishBoot();
    for (const auto& [pid, w] : pool_->workers())
      slots_->Claim(w.id, kSec, config_.threads);
  }

  CommandResult Apply(Command c) { return commands_->Apply(c, 2 * kSec); }
  static Command Make(Command::Kind kind, int value = 0) {
    Command c{kind};
    c.value = value;
    return c;
  }

  Config config_ = Running();
  std::optional<Config> next_config_;  // what a reload reads; none: running
  FakeProcesses processes_;
  FakeSockets sockets_;
  ListenerSet listeners_{&sockets_};
  std::unique_ptr<WorkerSlots> slots_;
  std::unique_ptr<WorkerPool> pool_;
  Autoscaler autoscaler_{ScalerLimits{}, false};
  ConfigReload reload_{[this](std::vector<std::string>*) {
    return StatusOr<Config>(next_config_ ? *next_config_ : config_);
  }};
  std::vector<bool> stops_;
  std::unique_ptr<PoolCommands> commands_;
};

TEST_F(PoolCommandsTest, ScaleSetsTheDesiredCount) {
  CommandResult r = Apply(Make(Command::Kind::kScale, 4));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.value, 4);
  EXPECT_EQ(pool_->desired(), 4);
}

TEST_F(PoolCommandsTest, ThreadsReachTheConfigurationAndTheLiveWorkers) {
  CommandResult r = Apply(Make(Command::Kind::kThreads, 6));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.value, 6);
  EXPECT_EQ(config_.threads, 6);
  for (const auto& [pid, w] : pool_->workers())
    EXPECT_EQ(slots_->slot(w.id).desired_threads.load(), 6u);
}

TEST_F(PoolCommandsTest, ThreadsAboveMaxThreadsAre422) {
  CommandResult r = Apply(Make(Command::Kind::kThreads, 9));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.error, "invalid_value");
  EXPECT_NE(r.detail.find("--max-threads"), std::string::npos);
  EXPECT_EQ(config_.threads, 2);
}

TEST_F(PoolCommandsTest, AutoscaleGoesToTheAutoscaler) {
  Command c = Make(Command::Kind::kAutoscale);
  c.enabled = 1;
  EXPECT_EQ(Apply(c).status, 200);
  EXPECT_TRUE(autoscaler_.enabled());
}

TEST_F(PoolCommandsTest, AReloadStartsANewGeneration) {
  int generation = pool_->generation();
  Config next = Running();
  next.timeout = 45;
  next_config_ = next;
  CommandResult r = Apply(Make(Command::Kind::kReload));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(pool_->generation(), generation + 1);
  EXPECT_EQ(r.value, pool_->generation());
  EXPECT_EQ(config_.timeout, 45);
}

TEST_F(PoolCommandsTest, AFailedReloadIs409AndKeepsTheGeneration) {
  int generation = pool_->generation();
  Config next = Running();
  next.binds = {"bad:1"};
  next_config_ = next;
  CommandResult r = Apply(Make(Command::Kind::kReload));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.error, "reload_failed");
  EXPECT_NE(r.detail.find("keeps serving"), std::string::npos);
  EXPECT_EQ(pool_->generation(), generation);
  EXPECT_EQ(config_.binds, Running().binds);
  EXPECT_EQ(reload_.failures(), 1u);
}

TEST_F(PoolCommandsTest, RestartAndKillNeedAServingWorker) {
  int id = pool_->workers().begin()->second.id;
  EXPECT_EQ(Apply(Make(Command::Kind::kRestartWorker, id)).status, 202);
  CommandResult r = Apply(Make(Command::Kind::kKillWorker, 99));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error, "not_found");
}

TEST_F(PoolCommandsTest, StopIsHandedToTheLoop) {
  Command graceful = Make(Command::Kind::kStop);
  EXPECT_EQ(Apply(graceful).status, 202);
  Command fast = Make(Command::Kind::kStop);
  fast.graceful = false;
  EXPECT_EQ(Apply(fast).status, 202);
  EXPECT_EQ(stops_, (std::vector<bool>{true, false}));
}

TEST_F(PoolCommandsTest, AScalerDecisionSetsThreadsAndWorkers) {
  ScalerDecision d{ScalerDecision::Direction::kUp,
                   ScalerDecision::Kind::kWorkers, 3, 4, "test"};
  commands_->Apply(d);
  EXPECT_EQ(pool_->desired(), 3);
  EXPECT_EQ(config_.threads, 4);
}

}  // namespace
}  // namespace wsgid
