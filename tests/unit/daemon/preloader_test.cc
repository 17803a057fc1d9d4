// The preload zygotes (issue 16): the transition table as data, and the
// Preloader driving it with fake processes and a fake clock.
#include "daemon/preloader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <utility>
#include <vector>

#include "daemon/zygote_lifecycle.h"

namespace wsgid {
namespace {

using S = ZygoteState;
using E = ZygoteEvent;

constexpr int64_t kSec = 1'000'000'000;
constexpr int kExitedOk = 0;           // wait status: exit code 0
constexpr int kImportFailed = 4 << 8;  // wait status: exit code 4 (kAppLoad)
constexpr int kKilled = SIGKILL;       // wait status: killed by SIGKILL

class FakeZygotes : public ZygoteControl {
 public:
  StatusOr<pid_t> StartZygote(int generation) override {
    if (fail_) return Status::Unavailable("cannot spawn (fake)");
    started_.push_back(generation);
    return next_pid_++;
  }
  void Signal(pid_t pid, int sig) override { signals_.push_back({pid, sig}); }

  bool fail_ = false;
  pid_t next_pid_ = 100;
  std::vector<int> started_;
  std::vector<std::pair<pid_t, int>> signals_;
};

TEST(ZygoteLifecycleTest, EachStateAndEventHasAtMostOneRowAndExitedIsTerminal) {
  std::set<std::pair<S, E>> seen;
  for (const ZygoteTransition& row : ZygoteTable()) {
    EXPECT_TRUE(seen.insert({row.from, row.event}).second);
    EXPECT_EQ(FindZygoteTransition(row.from, row.event), &row);
    EXPECT_NE(row.from, S::kExited);
  }
  for (const ZygoteStateInfo& info : ZygoteStates())
    EXPECT_EQ(&ZygoteInfo(info.state), &info);
}

TEST(ZygoteLifecycleTest,
     OnlyAReadyZygoteForksAndOnlyAStartingOneMakesSpawnsWait) {
  for (const ZygoteStateInfo& info : ZygoteStates()) {
    SCOPED_TRACE(info.name);
    EXPECT_EQ(info.route == SpawnRoute::kFork, info.state == S::kReady);
    EXPECT_EQ(info.route == SpawnRoute::kWait, info.state == S::kStarting);
  }
}

TEST(ZygoteLifecycleTest, EveryRunningStateHandlesDeathAndRetirement) {
  for (S state : {S::kStarting, S::kReady, S::kUnsafe, S::kFailed}) {
    SCOPED_TRACE(ZygoteInfo(state).name);
    EXPECT_NE(FindZygoteTransition(state, E::kDied), nullptr);
    EXPECT_NE(FindZygoteTransition(state, E::kRetire), nullptr);
  }
}

class PreloaderTest : public ::testing::Test {
 protected:
  FakeZygotes fake_;
  Preloader preloader_{&fake_, 60 * kSec};
};

TEST_F(PreloaderTest, FirstSpawnStartsTheZygoteAndWaitsUntilItIsReady) {
  EXPECT_EQ(preloader_.Route(1, 0), SpawnRoute::kWait);
  EXPECT_EQ(preloader_.Route(1, 0), SpawnRoute::kWait);
  ASSERT_EQ(fake_.started_, std::vector<int>{1});  // one zygote per generation
  EXPECT_EQ(preloader_.ReadyZygote(1), 0);
  preloader_.OnReport(100, Preloader::Report::kReady, kSec);
  EXPECT_EQ(preloader_.Route(1, kSec), SpawnRoute::kFork);
  EXPECT_EQ(preloader_.ReadyZygote(1), 100);
  ASSERT_TRUE(preloader_.Newest().has_value());
  EXPECT_EQ(preloader_.Newest()->state, "ready");
  EXPECT_EQ(preloader_.Newest()->pid, 100);
}

TEST_F(PreloaderTest, ThreadsAtImportMeanSpawnsWithoutPreload) {
  preloader_.Route(1, 0);
  preloader_.OnReport(100, Preloader::Report::kUnsafe, 0);
  EXPECT_EQ(preloader_.Route(1, 0), SpawnRoute::kPlain);
  EXPECT_TRUE(preloader_.OnExit(100, kExitedOk, 0));  // it exits by itself
  EXPECT_EQ(preloader_.Route(1, 0), SpawnRoute::kPlain);
  EXPECT_EQ(fake_.started_.size(), 1u);  // not restarted
  EXPECT_EQ(preloader_.Newest()->state, "unsafe");
}

TEST_F(PreloaderTest, AZygoteThatDiesIsRestartedAndSpawnsWaitForIt) {
  preloader_.Route(1, 0);
  preloader_.OnReport(100, Preloader::Report::kReady, 0);
  EXPECT_TRUE(preloader_.OnExit(100, kKilled, kSec));
  EXPECT_EQ(fake_.started_, (std::vector<int>{1, 1}));
  EXPECT_EQ(preloader_.Route(1, kSec), SpawnRoute::kWait);
  preloader_.OnReport(101, Preloader::Report::kReady, 2 * kSec);
  EXPECT_EQ(preloader_.ReadyZygote(1), 101);
  EXPECT_TRUE(fake_.signals_.empty());  // the dead one is never signalled
}

TEST_F(PreloaderTest, ImportFailureFallsBackToPlainSpawnsWithoutRestarting) {
  preloader_.Route(2, 0);
  EXPECT_TRUE(preloader_.OnExit(100, kImportFailed, 0));
  EXPECT_EQ(preloader_.Route(2, 0), SpawnRoute::kPlain);
  EXPECT_EQ(fake_.started_.size(), 1u);
}

TEST_F(PreloaderTest, ACrashLoopBeforeReadyGivesUpOnPreload) {
  preloader_.Route(1, 0);
  for (int i = 0; i < Preloader::kCrashLoopLimit; ++i)
    EXPECT_TRUE(preloader_.OnExit(100 + i, kKilled, i));
  EXPECT_EQ(fake_.started_.size(),
            static_cast<size_t>(Preloader::kCrashLoopLimit));
  EXPECT_EQ(preloader_.Route(1, kSec), SpawnRoute::kPlain);
  EXPECT_EQ(preloader_.Newest()->state, "failed");
}

TEST_F(PreloaderTest, ABootTimeoutKillsTheZygoteThenRestartsIt) {
  preloader_.Route(1, 0);
  preloader_.Tick(61 * kSec, 1, {1});
  ASSERT_EQ(fake_.signals_.size(), 1u);
  EXPECT_EQ(fake_.signals_[0], std::make_pair(pid_t{100}, SIGKILL));
  preloader_.OnExit(100, kKilled, 61 * kSec);
  EXPECT_EQ(fake_.started_.size(), 2u);
}

TEST_F(PreloaderTest, AnOldGenerationsZygoteLeavesOnceItsWorkersAreGone) {
  preloader_.Route(1, 0);
  preloader_.OnReport(100, Preloader::Report::kReady, 0);
  preloader_.Route(2, kSec);  // a reload
  preloader_.OnReport(101, Preloader::Report::kReady, kSec);
  preloader_.Tick(kSec, 2, {1, 2});  // generation 1 still has workers
  EXPECT_TRUE(fake_.signals_.empty());
  preloader_.Tick(2 * kSec, 2, {2});
  ASSERT_EQ(fake_.signals_.size(), 1u);
  EXPECT_EQ(fake_.signals_[0], std::make_pair(pid_t{100}, SIGTERM));
  EXPECT_TRUE(preloader_.OnExit(100, kExitedOk, 2 * kSec));
  preloader_.Tick(2 * kSec, 2, {2});
  EXPECT_EQ(preloader_.All().size(), 1u);
  EXPECT_EQ(preloader_.Newest()->generation, 2);
  EXPECT_EQ(fake_.started_.size(), 2u);  // a retired zygote is not restarted
}

TEST_F(PreloaderTest, AReloadRevertedRetiresTheNewZygoteAndKeepsTheOld) {
  preloader_.Route(1, 0);
  preloader_.OnReport(100, Preloader::Report::kReady, 0);
  preloader_.Route(2, kSec);
  preloader_.Tick(kSec, 1, {1});  // the pool went back to generation 1
  ASSERT_EQ(fake_.signals_.size(), 1u);
  EXPECT_EQ(fake_.signals_[0], std::make_pair(pid_t{101}, SIGKILL));
  EXPECT_EQ(preloader_.Route(1, kSec), SpawnRoute::kFork);
}

TEST_F(PreloaderTest, AFailedForkKillsTheZygoteWhichIsThenRestarted) {
  preloader_.Route(1, 0);
  preloader_.OnReport(100, Preloader::Report::kReady, 0);
  preloader_.OnForkFailed(100, kSec);
  ASSERT_EQ(fake_.signals_.size(), 1u);
  EXPECT_EQ(fake_.signals_[0], std::make_pair(pid_t{100}, SIGKILL));
  preloader_.OnExit(100, kKilled, kSec);
  EXPECT_EQ(preloader_.Route(1, kSec), SpawnRoute::kWait);
}

TEST_F(PreloaderTest, StopSignalsEveryZygoteAndRestartsNone) {
  preloader_.Route(1, 0);
  preloader_.StopAll(SIGTERM);
  ASSERT_EQ(fake_.signals_.size(), 1u);
  preloader_.OnExit(100, SIGTERM, kSec);
  EXPECT_EQ(fake_.started_.size(), 1u);
}

TEST_F(PreloaderTest, AZygoteThatCannotBeSpawnedMeansPlainSpawns) {
  fake_.fail_ = true;
  EXPECT_EQ(preloader_.Route(1, 0), SpawnRoute::kPlain);
}

TEST_F(PreloaderTest, OtherChildrenAreNotZygotes) {
  preloader_.Route(1, 0);
  EXPECT_FALSE(preloader_.OnExit(555, kExitedOk, 0));
  EXPECT_FALSE(preloader_.OnExit(0, kExitedOk, 0));
}

}  // namespace
}  // namespace wsgid
