// The scaler in the loop: sampling only while on and once per period, the
// record of decisions, the control API's settings. A fake LoadReader stands
// for the scoreboard and /proc; the clock is the test's.
#include "daemon/autoscaler.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <vector>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kSec;

// One worker with one thread that is busy all the time and waits on I/O: a
// load that saturates it.
class SaturatedLoad : public LoadReader {
 public:
  explicit SaturatedLoad(const int64_t* now) : now_(now) {}
  WorkerReading ReadWorker(int, pid_t) override {
    ++reads;
    WorkerReading r;
    r.threads.push_back({*now_ - kT0, false, 0});
    r.thread_states.io_wait = 1;
    return r;
  }
  int64_t ListenQueue() override { return 4; }

  int reads = 0;

 private:
  const int64_t* now_;
};

ScalerLimits Limits() {
  ScalerLimits l;
  l.min_workers = 1;
  l.max_workers = 8;
  l.min_threads = 1;
  l.max_threads = 16;
  l.cores = 4;
  return l;
}

class AutoscalerTest : public ::testing::Test {
 protected:
  std::optional<ScalerDecision> Tick(Autoscaler* a) {
    return a->Tick(now_, kSec, {{1, 101}}, /*desired=*/1, /*threads=*/1,
                   &load_);
  }

  int64_t now_ = kT0;
  SaturatedLoad load_{&now_};
};

TEST_F(AutoscalerTest, OffReadsNothing) {
  Autoscaler a(Limits(), /*enabled=*/false);
  for (int i = 0; i < 3; ++i, now_ += kSec) EXPECT_FALSE(Tick(&a));
  EXPECT_EQ(load_.reads, 0);
}

TEST_F(AutoscalerTest, SamplesOncePerPeriod) {
  Autoscaler a(Limits(), /*enabled=*/true);
  Tick(&a);  // the starting values
  EXPECT_EQ(load_.reads, 1);
  now_ += kSec / 2;
  EXPECT_FALSE(Tick(&a));
  EXPECT_EQ(load_.reads, 1);
  now_ += kSec / 2;
  Tick(&a);
  EXPECT_EQ(load_.reads, 2);
}

TEST_F(AutoscalerTest, SaturationIsDecidedLoggedAndCounted) {
  Autoscaler a(Limits(), /*enabled=*/true);
  EXPECT_FALSE(Tick(&a));  // the first tick only takes starting values
  std::optional<ScalerDecision> d;
  for (int i = 0; i < 5 && !d; ++i) {
    now_ += kSec;
    d = Tick(&a);
  }
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->direction, ScalerDecision::Direction::kUp);
  uint64_t counted = 0;
  for (const auto& [name, n] : a.decisions()) counted += n;
  EXPECT_EQ(counted, 1u);
  ASSERT_EQ(a.recent_decisions().size(), 1u);
  EXPECT_EQ(a.recent_decisions()[0].rfind("up to ", 0), 0u)
      << a.recent_decisions()[0];
}

TEST_F(AutoscalerTest, TurnedOffAndOnItStartsOver) {
  Autoscaler a(Limits(), /*enabled=*/true);
  Tick(&a);
  Command off{Command::Kind::kAutoscale};
  off.enabled = 0;
  a.Configure(off, 32);
  now_ += kSec;
  Tick(&a);
  Command on{Command::Kind::kAutoscale};
  on.enabled = 1;
  a.Configure(on, 32);
  now_ += kSec;
  int reads = load_.reads;
  EXPECT_FALSE(Tick(&a));  // a first sample again: no decision
  EXPECT_EQ(load_.reads, reads + 1);
}

TEST_F(AutoscalerTest, ConfigureSetsTheBoundsWithinMaxWorkers) {
  Autoscaler a(Limits(), /*enabled=*/false);
  Command c{Command::Kind::kAutoscale};
  c.enabled = 1;
  c.min = 2;
  c.max = 50;
  CommandResult r = a.Configure(c, /*max_workers=*/10);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(a.enabled());
  EXPECT_EQ(a.limits().min_workers, 2);
  EXPECT_EQ(a.limits().max_workers, 10);
}

TEST_F(AutoscalerTest, MinAboveMaxIsRefusedAndChangesNothing) {
  Autoscaler a(Limits(), /*enabled=*/false);
  Command c{Command::Kind::kAutoscale};
  c.enabled = 1;
  c.min = 6;
  c.max = 3;
  CommandResult r = a.Configure(c, 32);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.error, "invalid_value");
  EXPECT_FALSE(a.enabled());
  EXPECT_EQ(a.limits().min_workers, 1);
  EXPECT_EQ(a.limits().max_workers, 8);
}

TEST_F(AutoscalerTest, DescribeFillsTheScalersPartOfTheSnapshot) {
  ScalerLimits l = Limits();
  l.memory_budget_bytes = 1 << 30;
  Autoscaler a(l, /*enabled=*/true);
  PoolSnapshot s;
  a.Describe(&s);
  EXPECT_TRUE(s.autoscale);
  EXPECT_EQ(s.min_workers, 1);
  EXPECT_EQ(s.autoscale_max_workers, 8);
  EXPECT_EQ(s.cores, 4);
  EXPECT_EQ(s.memory_budget_bytes, 1 << 30);
  EXPECT_TRUE(s.decisions.empty());
}

TEST(ScalerLimitsForTest, FromTheConfigurationAndTheHost) {
  Config c;
  c.min_workers = 2;
  c.max_workers = 12;
  c.min_threads = 1;
  c.threads = 2;
  c.max_threads = 8;
  c.scale_down_window = 15;
  ScalerLimits l = ScalerLimitsFor(c, /*cores=*/6, /*cgroup_memory=*/1000);
  EXPECT_EQ(l.min_workers, 2);
  EXPECT_EQ(l.max_workers, 12);
  EXPECT_EQ(l.max_threads, 8);
  EXPECT_EQ(l.cores, 6);
  EXPECT_EQ(l.memory_budget_bytes, 800);  // 80% of the cgroup's limit
  EXPECT_EQ(l.scale_down_window_ns, 15 * kSec);
  c.max_memory = 5000;
  EXPECT_EQ(ScalerLimitsFor(c, 6, 1000).memory_budget_bytes, 5000);
}

// issue 16: workers forked by a preload zygote are ready in milliseconds, so
// the scaler waits much less for new ones before adding more.
TEST(ScalerLimitsForTest, PreloadShortensTheNewWorkerGrace) {
  Config c;
  EXPECT_EQ(ScalerLimitsFor(c, 2, 0).new_worker_grace_ns,
            Scaler::kNewWorkerGraceNs);
  c.preload = true;
  EXPECT_EQ(ScalerLimitsFor(c, 2, 0).new_worker_grace_ns,
            ScalerLimits::kForkedWorkerGraceNs);
  EXPECT_LT(ScalerLimits::kForkedWorkerGraceNs, kSec);
}

}  // namespace
}  // namespace wsgid
