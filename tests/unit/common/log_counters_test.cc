// Unit tests for common/log.h's record counters (Gunicorn's statsd
// gunicorn.log.* counters): by level, exceptions apart, whatever the filter;
// and its reopeners, which a forked process clears.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "common/log.h"

namespace wsgid {
namespace {

class LogCountersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& c : counts_) c.store(0);
    SetLogCounters(counts_);
  }
  void TearDown() override { SetLogCounters(nullptr); }
  uint64_t Count(LogCounter c) { return counts_[static_cast<int>(c)].load(); }

  std::atomic<uint64_t> counts_[kLogCounterCount];
};

TEST_F(LogCountersTest, RecordsAtWarningAndAboveCountByLevel) {
  Log(LogLevel::kDebug) << "log counters test: debug";
  Log(LogLevel::kInfo) << "log counters test: info";
  Log(LogLevel::kWarning) << "log counters test: warning";
  Log(LogLevel::kError) << "log counters test: error";
  Log(LogLevel::kError) << "log counters test: error";
  Log(LogLevel::kCritical) << "log counters test: critical";
  EXPECT_EQ(Count(LogCounter::kWarning), 1u);
  EXPECT_EQ(Count(LogCounter::kError), 2u);
  EXPECT_EQ(Count(LogCounter::kCritical), 1u);
  EXPECT_EQ(Count(LogCounter::kException), 0u);
}

TEST_F(LogCountersTest, AnExceptionCountsAsExceptionOnly) {
  Log::Exception() << "log counters test: Error handling request /";
  LogLine(LogLevel::kError, "log counters test: hook raised", true);
  EXPECT_EQ(Count(LogCounter::kException), 2u);
  EXPECT_EQ(Count(LogCounter::kError), 0u);
}

TEST_F(LogCountersTest, ARecordTheLevelFiltersOutStillCounts) {
  ASSERT_FALSE(LogEnabled(LogLevel::kDebug));  // the default level is info
  CountLogRecord(LogLevel::kWarning);
  EXPECT_EQ(Count(LogCounter::kWarning), 1u);
}

TEST_F(LogCountersTest, WithoutAnArrayTheProcessCountsItsOwn) {
  SetLogCounters(nullptr);
  uint64_t before = LocalLogCount(LogCounter::kCritical);
  CountLogRecord(LogLevel::kCritical);
  EXPECT_EQ(LocalLogCount(LogCounter::kCritical), before + 1);
  EXPECT_EQ(Count(LogCounter::kCritical), 0u);
}

// A preload worker forked from the zygote starts with none of the zygote's
// reopeners (each would signal the zygote's stdio relay), only those it adds.
TEST(LogReopenersTest, ClearedReopenersNoLongerRun) {
  int inherited = 0, own = 0;
  ClearLogReopeners();  // none left by other tests' objects
  AddLogReopener([&] { ++inherited; });
  ReopenLogs();  // the error log is stderr here: only the reopeners run
  EXPECT_EQ(inherited, 1);
  ClearLogReopeners();
  AddLogReopener([&] { ++own; });
  ReopenLogs();
  EXPECT_EQ(inherited, 1);
  EXPECT_EQ(own, 1);
  ClearLogReopeners();  // `own` goes out of scope
}

TEST(LogCounterNameTest, GunicornsNames) {
  EXPECT_STREQ(LogCounterName(LogCounter::kWarning), "warning");
  EXPECT_STREQ(LogCounterName(LogCounter::kError), "error");
  EXPECT_STREQ(LogCounterName(LogCounter::kCritical), "critical");
  EXPECT_STREQ(LogCounterName(LogCounter::kException), "exception");
}

}  // namespace
}  // namespace wsgid
