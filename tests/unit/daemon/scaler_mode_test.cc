// The autoscaler's memory between ticks: each transition of its load and trim
// modes, on their own.
#include "daemon/scaler_mode.h"

#include <gtest/gtest.h>

namespace wsgid {
namespace {

using Load = ScalerMode::Load;
using Trim = ScalerMode::Trim;
using Reading = ScalerMode::Reading;

constexpr int64_t kSec = 1'000'000'000;

TEST(ScalerModeTest, StartsSteadyUntrimmedWithNoHistory) {
  ScalerMode m;
  EXPECT_EQ(m.load(), Load::kSteady);
  EXPECT_EQ(m.trim(), Trim::kNone);
  EXPECT_EQ(m.streak(), 0);
  EXPECT_EQ(m.underused_since_ns(), -1);
  EXPECT_EQ(m.workers_added_ns(), -1);
}

TEST(ScalerModeTest,
     UnderuseStartsAWindowThatOnlyADownStepOrAnotherReadingMoves) {
  ScalerMode m;
  m.Observe(Reading::kUnderused, 10 * kSec);
  EXPECT_EQ(m.load(), Load::kUnderused);
  EXPECT_EQ(m.underused_since_ns(), 10 * kSec);
  m.Observe(Reading::kUnderused, 11 * kSec);
  EXPECT_EQ(m.underused_since_ns(), 10 * kSec);
  m.RestartUnderuseWindow(40 * kSec);
  m.Observe(Reading::kUnderused, 41 * kSec);
  EXPECT_EQ(m.underused_since_ns(), 40 * kSec);
  for (Reading other :
       {Reading::kInBand, Reading::kSaturatedCpu, Reading::kSaturatedIo}) {
    m.Observe(other, 50 * kSec);
    EXPECT_EQ(m.underused_since_ns(), -1);
    m.Observe(Reading::kUnderused, 60 * kSec);
    EXPECT_EQ(m.underused_since_ns(), 60 * kSec);
  }
}

TEST(ScalerModeTest, SaturatedReadingsCountAStreakPerKind) {
  ScalerMode m;
  m.Observe(Reading::kSaturatedCpu, 0);
  m.Observe(Reading::kSaturatedCpu, 0);
  EXPECT_EQ(m.load(), Load::kConfirmingCpu);
  EXPECT_EQ(m.streak(), 2);
  m.Observe(Reading::kSaturatedIo, 0);
  EXPECT_EQ(m.load(), Load::kConfirmingIo);
  EXPECT_EQ(m.streak(), 1);
  m.Observe(Reading::kSaturatedIo, 0);
  EXPECT_EQ(m.streak(), 2);
  m.Observe(Reading::kSaturatedCpu, 0);
  EXPECT_EQ(m.streak(), 1);
  m.RestartConfirmation();
  EXPECT_EQ(m.load(), Load::kConfirmingCpu);
  EXPECT_EQ(m.streak(), 0);
  m.Observe(Reading::kSaturatedCpu, 0);
  EXPECT_EQ(m.streak(), 1);
  m.Observe(Reading::kInBand, 0);
  EXPECT_EQ(m.load(), Load::kSteady);
  EXPECT_EQ(m.streak(), 0);
  m.Observe(Reading::kSaturatedCpu, 0);
  EXPECT_EQ(m.streak(), 1);
  m.Observe(Reading::kUnderused, 0);
  EXPECT_EQ(m.streak(), 0);
}

TEST(ScalerModeTest, ATrimIsRefutedByGrowthAndForgivenByUnderuse) {
  ScalerMode m;
  m.OnThreadsGrown();  // growth without a trim before it: nothing to refute
  EXPECT_EQ(m.trim(), Trim::kNone);
  m.Observe(Reading::kSaturatedCpu, 0);
  m.Observe(Reading::kSaturatedCpu, 0);
  m.OnThreadsTrimmed();
  EXPECT_EQ(m.trim(), Trim::kTrimmed);
  EXPECT_EQ(m.streak(), 0);  // the next trim needs a new confirmation
  // Underuse does not forget a trim: growing back still waits.
  m.Observe(Reading::kUnderused, 0);
  EXPECT_EQ(m.trim(), Trim::kTrimmed);
  m.OnThreadsGrown();
  EXPECT_EQ(m.trim(), Trim::kRefuted);
  m.OnThreadsGrown();  // further growth under the same load: still refuted
  m.Observe(Reading::kSaturatedCpu, 0);
  m.Observe(Reading::kInBand, 0);
  EXPECT_EQ(m.trim(), Trim::kRefuted);
  m.Observe(Reading::kUnderused, 0);
  EXPECT_EQ(m.trim(), Trim::kNone);
}

TEST(ScalerModeTest, WorkersAddedIsATimeNotAMode) {
  ScalerMode m;
  m.OnWorkersAdded(7 * kSec);
  EXPECT_EQ(m.workers_added_ns(), 7 * kSec);
  for (Reading r : {Reading::kInBand, Reading::kUnderused,
                    Reading::kSaturatedCpu, Reading::kSaturatedIo})
    m.Observe(r, 9 * kSec);
  EXPECT_EQ(m.workers_added_ns(), 7 * kSec);
}

TEST(ScalerModeTest, ModesHaveNames) {
  EXPECT_EQ(ScalerMode::LoadName(Load::kSteady), "steady");
  EXPECT_EQ(ScalerMode::LoadName(Load::kUnderused), "underused");
  EXPECT_EQ(ScalerMode::LoadName(Load::kConfirmingCpu), "confirming_cpu");
  EXPECT_EQ(ScalerMode::LoadName(Load::kConfirmingIo), "confirming_io");
  EXPECT_EQ(ScalerMode::TrimName(Trim::kNone), "none");
  EXPECT_EQ(ScalerMode::TrimName(Trim::kTrimmed), "trimmed");
  EXPECT_EQ(ScalerMode::TrimName(Trim::kRefuted), "refuted");
}

}  // namespace
}  // namespace wsgid
