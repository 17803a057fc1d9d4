// The master's signal table (Gunicorn's meanings).
#include "daemon/master_signals.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

namespace wsgid {
namespace {

TEST(MasterSignalsTest, EachSignalsAction) {
  EXPECT_EQ(ActionForSignal(SIGTERM), SignalAction::kGracefulStop);
  EXPECT_EQ(ActionForSignal(SIGINT), SignalAction::kFastStop);
  EXPECT_EQ(ActionForSignal(SIGQUIT), SignalAction::kFastStop);
  EXPECT_EQ(ActionForSignal(SIGHUP), SignalAction::kReload);
  EXPECT_EQ(ActionForSignal(SIGTTIN), SignalAction::kAddWorker);
  EXPECT_EQ(ActionForSignal(SIGTTOU), SignalAction::kRemoveWorker);
  EXPECT_EQ(ActionForSignal(SIGUSR1), SignalAction::kReopenLogs);
  EXPECT_EQ(ActionForSignal(SIGUSR2), SignalAction::kReExec);
  EXPECT_EQ(ActionForSignal(SIGCHLD), SignalAction::kNone);
  EXPECT_EQ(ActionForSignal(SIGWINCH), SignalAction::kNone);
}

TEST(MasterSignalsTest, EverySignalWithAnActionIsTakenAndChildTooForReaping) {
  const std::vector<int>& taken = MasterSignals();
  for (int s = 1; s < NSIG; ++s) {
    if (ActionForSignal(s) == SignalAction::kNone) continue;
    EXPECT_NE(std::find(taken.begin(), taken.end(), s), taken.end())
        << "signal " << s;
  }
  EXPECT_NE(std::find(taken.begin(), taken.end(), SIGCHLD), taken.end());
  // Never the ones a crash or the debugger needs.
  for (int s : {SIGSEGV, SIGABRT, SIGKILL, SIGSTOP, SIGPIPE})
    EXPECT_EQ(std::find(taken.begin(), taken.end(), s), taken.end());
}

}  // namespace
}  // namespace wsgid
