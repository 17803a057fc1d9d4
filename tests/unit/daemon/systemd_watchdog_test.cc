// SystemdWatchdog with a fake clock and a recording sender.
#include "daemon/systemd_watchdog.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"

namespace wsgid {
namespace {

TEST(WatchdogIntervalTest, HalfOfWatchdogUsec) {
  EXPECT_EQ(WatchdogIntervalNs("10000000", nullptr, 42), 5 * kNsPerSec);
  EXPECT_EQ(WatchdogIntervalNs("10000000", "42", 42), 5 * kNsPerSec);
}

TEST(WatchdogIntervalTest, NoneWhenUnsetInvalidOrForAnotherPid) {
  EXPECT_EQ(WatchdogIntervalNs(nullptr, nullptr, 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("", nullptr, 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("0", nullptr, 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("-5", nullptr, 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("10s", nullptr, 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("99999999999999999999", nullptr, 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("10000000", "41", 42), 0);
  EXPECT_EQ(WatchdogIntervalNs("10000000", "x", 42), 0);
}

TEST(StatusLineTest, ReadyWorkersAndRate) {
  EXPECT_EQ(StatusLine({3, 4, 0}, 12.25),
            "STATUS=3/4 workers ready, 12.2 req/s");
}

struct Recorder {
  std::vector<std::string> sent;
  SystemdWatchdog::Sender sender() {
    return [this](const std::string& s) { sent.push_back(s); };
  }
  int Count(const std::string& prefix) const {
    int n = 0;
    for (const std::string& s : sent) n += s.rfind(prefix, 0) == 0;
    return n;
  }
};

TEST(SystemdWatchdogTest, PingsOncePerInterval) {
  Recorder r;
  SystemdWatchdog w(r.sender(), true, kNsPerSec);
  auto status = [] { return ServiceStatus{1, 1, 0}; };
  w.Tick(0, status);  // the first turn pings at once
  EXPECT_EQ(r.Count("WATCHDOG=1"), 1);
  for (int64_t t = 100'000'000; t < kNsPerSec; t += 100'000'000)
    w.Tick(t, status);
  EXPECT_EQ(r.Count("WATCHDOG=1"), 1);
  w.Tick(kNsPerSec, status);
  EXPECT_EQ(r.Count("WATCHDOG=1"), 2);
  // A loop that stopped turning for 3 s pings once when it turns again.
  w.Tick(4 * kNsPerSec, status);
  EXPECT_EQ(r.Count("WATCHDOG=1"), 3);
}

TEST(SystemdWatchdogTest, StatusEveryIntervalWithTheRate) {
  Recorder r;
  SystemdWatchdog w(r.sender(), true, 0);  // no watchdog: status only
  uint64_t requests = 100;
  int asked = 0;
  auto status = [&] {
    ++asked;
    return ServiceStatus{2, 3, requests};
  };
  w.Tick(0, status);
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0], "STATUS=2/3 workers ready, 0.0 req/s");
  requests = 600;             // 500 requests in the next 5 s
  w.Tick(kNsPerSec, status);  // not due: the status is not even gathered
  EXPECT_EQ(asked, 1);
  w.Tick(SystemdWatchdog::kStatusIntervalNs, status);
  ASSERT_EQ(r.sent.size(), 2u);
  EXPECT_EQ(r.sent[1], "STATUS=2/3 workers ready, 100.0 req/s");
  EXPECT_EQ(r.Count("WATCHDOG=1"), 0);
}

TEST(SystemdWatchdogTest, DisabledSendsNothing) {
  Recorder r;
  SystemdWatchdog w(r.sender(), false, kNsPerSec);
  w.Tick(0, [] { return ServiceStatus{}; });
  w.Tick(10 * kNsPerSec, [] { return ServiceStatus{}; });
  EXPECT_TRUE(r.sent.empty());
}

}  // namespace
}  // namespace wsgid
