// The worker lifecycle's transition table as data: its shape, its reach and
// the properties of each state. The pool driving every row is in
// worker_pool_test.cc.
#include "daemon/worker_lifecycle.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>
#include <utility>

#include "daemon/worker_pool.h"

namespace wsgid {
namespace {

using S = LifecycleState;
using E = LifecycleEvent;

TEST(WorkerLifecycleTest, EachStateAndEventHasAtMostOneRow) {
  std::set<std::pair<S, E>> seen;
  for (const LifecycleTransition& row : LifecycleTable()) {
    SCOPED_TRACE(std::string(StateInfo(row.from).name) + " + " +
                 std::string(LifecycleEventName(row.event)));
    EXPECT_TRUE(seen.insert({row.from, row.event}).second);
    EXPECT_EQ(FindTransition(row.from, row.event), &row);
  }
}

TEST(WorkerLifecycleTest, EveryLiveStateIsReapedIntoExitedWhichIsTerminal) {
  for (S state : kLifecycleStates) {
    SCOPED_TRACE(StateInfo(state).name);
    const LifecycleTransition* reaped = FindTransition(state, E::kReaped);
    if (state == S::kExited) {
      for (E event : kLifecycleEvents)
        EXPECT_EQ(FindTransition(state, event), nullptr);
      continue;
    }
    ASSERT_NE(reaped, nullptr);
    EXPECT_EQ(reaped->to, S::kExited);
    EXPECT_EQ(reaped->signal, LifecycleSignal::kNone);
  }
}

TEST(WorkerLifecycleTest, EveryStateIsReachableFromStarting) {
  std::set<S> reached = {S::kStarting};
  for (bool grew = true; grew;) {
    grew = false;
    for (const LifecycleTransition& row : LifecycleTable())
      if (reached.count(row.from) && reached.insert(row.to).second) grew = true;
  }
  for (S state : kLifecycleStates)
    EXPECT_EQ(reached.count(state), 1u) << StateInfo(state).name;
}

TEST(WorkerLifecycleTest, EventsWithoutARowFindNothing) {
  EXPECT_EQ(FindTransition(S::kReady, E::kReadyLine), nullptr);
  EXPECT_EQ(FindTransition(S::kStarting, E::kFrozen), nullptr);
  EXPECT_EQ(FindTransition(S::kDraining, E::kKill), nullptr);
  EXPECT_EQ(FindTransition(S::kDraining, E::kDrain), nullptr);
  EXPECT_EQ(FindTransition(S::kKilled, E::kAbortGraceExpired), nullptr);
  EXPECT_EQ(FindTransition(S::kAborting, E::kFrozen), nullptr);
  EXPECT_EQ(FindTransition(S::kExited, E::kReaped), nullptr);
}

TEST(WorkerLifecycleTest, StatesMapToThePublicWorkerStates) {
  const std::pair<S, WorkerState> want[] = {
      {S::kStarting, WorkerState::kStarting},
      {S::kRecyclingStarting, WorkerState::kStarting},
      {S::kReady, WorkerState::kReady},
      {S::kRecycling, WorkerState::kReady},
      {S::kDraining, WorkerState::kDraining},
      {S::kAborting, WorkerState::kDraining},
      {S::kKilled, WorkerState::kDraining},
      {S::kExited, WorkerState::kDraining}};
  for (auto [state, public_state] : want) {
    EXPECT_EQ(StateInfo(state).state, state);
    EXPECT_EQ(StateInfo(state).public_state, public_state)
        << StateInfo(state).name;
    WorkerPool::Worker w;
    w.state = state;
    EXPECT_EQ(w.public_state(), public_state);
  }
}

// Serving workers are those the operator may restart; the marked ones those a
// replacement is started for; only a serving worker's exit is unexpected.
TEST(WorkerLifecycleTest, StatePropertiesAgreeWithTheRows) {
  for (S state : kLifecycleStates) {
    const LifecycleStateInfo& info = StateInfo(state);
    SCOPED_TRACE(info.name);
    EXPECT_EQ(info.serving, FindTransition(state, E::kRecycle) != nullptr);
    EXPECT_EQ(info.serving, info.on_exit == ExitAccounting::kUnexpected);
    EXPECT_EQ(info.before_ready,
              state == S::kStarting || state == S::kRecyclingStarting);
    EXPECT_EQ(info.marked_for_replacement,
              state == S::kRecyclingStarting || state == S::kRecycling);
    if (info.before_ready) {
      ASSERT_NE(FindTransition(state, E::kReadyLine), nullptr);
      EXPECT_TRUE(StateInfo(FindTransition(state, E::kReadyLine)->to).serving);
    }
  }
  EXPECT_EQ(StateInfo(S::kDraining).on_exit, ExitAccounting::kExpected);
  EXPECT_EQ(StateInfo(S::kAborting).on_exit, ExitAccounting::kAfterTimeout);
  EXPECT_EQ(StateInfo(S::kKilled).on_exit, ExitAccounting::kAfterTimeout);
}

// A worker told to leave never serves again.
TEST(WorkerLifecycleTest, NoRowLeadsBackToServing) {
  for (const LifecycleTransition& row : LifecycleTable()) {
    if (!StateInfo(row.from).serving) {
      EXPECT_FALSE(StateInfo(row.to).serving)
          << StateInfo(row.from).name << " + " << LifecycleEventName(row.event);
    }
  }
}

TEST(WorkerLifecycleTest, ExitReasonNamesAreTheMetricLabelsInOrder) {
  const std::pair<ExitReason, std::string_view> want[] = {
      {ExitReason::kExit, "exit"},
      {ExitReason::kCrash, "crash"},
      {ExitReason::kHeartbeatTimeout, "heartbeat_timeout"},
      {ExitReason::kRequestTimeout, "request_timeout"},
      {ExitReason::kMaxRequests, "max_requests"},
      {ExitReason::kScaleDown, "scale_down"},
      {ExitReason::kReload, "reload"},
      {ExitReason::kBootFailure, "boot_failure"},
      {ExitReason::kMaxWorkerMemory, "max_worker_memory"}};
  ASSERT_EQ(std::size(WorkerPool::kExitReasons), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(ExitReasonName(want[i].first), want[i].second);
    EXPECT_EQ(std::string_view(WorkerPool::kExitReasons[i]), want[i].second);
  }
}

}  // namespace
}  // namespace wsgid
