// The autoscaler's policy: synthetic ticks and recorded-shape traces against a
// clock carried by the inputs, no sleeps.
#include "daemon/scaler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wsgid {
namespace {

using Direction = ScalerDecision::Direction;
using Kind = ScalerDecision::Kind;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kSec;
constexpr double kIoCpu = 0.05;   // cpu_demand of a request that waits
constexpr double kCpuCpu = 0.95;  // cpu_demand of a request that burns CPU

ScalerLimits Limits() {
  ScalerLimits l;
  l.min_workers = 1;
  l.max_workers = 8;
  l.min_threads = 1;
  l.max_threads = 16;
  l.cores = 4;
  l.memory_budget_bytes = 0;
  l.scale_down_window_ns = 30 * kSec;
  return l;
}

ScalerInputs In(int64_t now_ns, int workers, int threads, double busy,
                double cpu_demand = kIoCpu, int64_t queue = 0,
                int64_t memory_bytes = 0) {
  ScalerInputs in;
  in.now_ns = now_ns;
  in.workers = workers;
  in.threads = threads;
  in.busy_ratio = busy;
  in.busy_threads = busy * workers * threads;
  in.queue = queue;
  in.cpu_demand = cpu_demand;
  in.memory_bytes = memory_bytes;
  return in;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// --- Scale up: I/O-bound -----------------------------------------------------

TEST(ScalerTest, IoBoundSaturationDoublesThreads) {
  const std::vector<std::pair<int, int>> steps = {
      {1, 2}, {2, 4}, {4, 8}, {8, 16}, {3, 6}};
  for (auto [from, to] : steps) {
    Scaler s(Limits());
    auto d = s.Decide(In(kT0, 2, from, 0.9));
    ASSERT_TRUE(d) << "threads " << from;
    EXPECT_EQ(d->direction, Direction::kUp);
    EXPECT_EQ(d->kind, Kind::kThreads);
    EXPECT_EQ(d->threads, to) << "from " << from;
    EXPECT_EQ(d->workers, 2);
  }
}

TEST(ScalerTest, IoBoundThreadDoublingIsCappedAtMaxThreads) {
  Scaler s(Limits());  // max_threads 16
  auto d = s.Decide(In(kT0, 1, 12, 0.9));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kThreads);
  EXPECT_EQ(d->threads, 16);
  ScalerLimits l = Limits();
  l.max_threads = 5;
  Scaler s5(l);
  d = s5.Decide(In(kT0, 1, 4, 0.9));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, 5);
}

TEST(ScalerTest, IoBoundAtMaxThreadsAddsOneWorker) {
  Scaler s(Limits());
  auto d = s.Decide(In(kT0, 3, 16, 0.9));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kUp);
  EXPECT_EQ(d->kind, Kind::kWorkers);
  EXPECT_EQ(d->workers, 4);
  EXPECT_EQ(d->threads, 16);
}

TEST(ScalerTest, IoBoundAtMaxWorkersAndThreadsDoesNothing) {
  Scaler s(Limits());
  EXPECT_FALSE(s.Decide(In(kT0, 8, 16, 1.0, kIoCpu, 100)));
}

// Repeated saturated ticks, applying each decision: all thread steps come
// before any worker step, one step per tick, up to max_workers x max_threads.
TEST(ScalerTest, IoBoundSaturationGrowsThreadsFirstThenWorkers) {
  Scaler s(Limits());
  int w = 1, t = 1;
  std::vector<std::pair<int, int>> seen;
  for (int tick = 0; tick < 30; ++tick) {
    auto d = s.Decide(In(kT0 + tick * kSec, w, t, 1.0));
    if (!d) break;
    EXPECT_EQ(d->direction, Direction::kUp);
    w = d->workers;
    t = d->threads;
    seen.emplace_back(w, t);
  }
  // Workers: one more, or a quarter more when that is more (Little's law with
  // every thread busy and nothing seen waiting).
  const std::vector<std::pair<int, int>> want = {
      {1, 2},  {1, 4},  {1, 8},  {1, 16}, {2, 16},
      {3, 16}, {4, 16}, {5, 16}, {7, 16}, {8, 16}};
  EXPECT_EQ(seen, want);
}

// With a queue, the thread step goes straight to what the queued connections
// need (busy threads plus queue, a quarter to spare, per worker) when that is
// more than doubling; still capped at max_threads.
TEST(ScalerTest, IoBoundQueueJumpsThreadsToWhatItNeeds) {
  ScalerLimits l = Limits();
  l.max_threads = 64;
  Scaler s(l);
  // (2 x 4 busy + 10 queued) x 1.25 / 2 workers = 11.25 -> 12, not 8.
  auto d = s.Decide(In(kT0, 2, 4, 1.0, kIoCpu, 10));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kThreads);
  EXPECT_EQ(d->workers, 2);
  EXPECT_EQ(d->threads, 12);
  // A small queue: doubling is still the floor.
  d = s.Decide(In(kT0 + kSec, 2, 4, 1.0, kIoCpu, 1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, 8);
  // A huge queue: capped at max_threads.
  d = s.Decide(In(kT0 + 2 * kSec, 1, 1, 1.0, kIoCpu, 1000));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, 64);
}

// --- Scale up: CPU-bound -----------------------------------------------------

TEST(ScalerTest, CpuBoundAddsOneWorkerPerTickUpToCores) {
  Scaler s(Limits());  // cores 4 < max_workers 8
  int w = 1;
  std::vector<int> seen;
  for (int tick = 0; tick < 10; ++tick) {
    auto d = s.Decide(In(kT0 + tick * kSec, w, 1, 0.95, kCpuCpu));
    if (!d) continue;
    EXPECT_EQ(d->direction, Direction::kUp);
    EXPECT_EQ(d->kind, Kind::kWorkers);
    EXPECT_EQ(d->threads, 1);
    EXPECT_EQ(d->workers, w + 1);
    w = d->workers;
    seen.push_back(w);
  }
  EXPECT_EQ(seen, (std::vector<int>{2, 3, 4}));
}

TEST(ScalerTest, CpuBoundWorkerCapIsMaxWorkersWhenBelowCores) {
  ScalerLimits l = Limits();
  l.max_workers = 3;
  l.cores = 16;
  Scaler s(l);
  EXPECT_TRUE(s.Decide(In(kT0, 2, 1, 0.95, kCpuCpu)));
  EXPECT_FALSE(s.Decide(In(kT0 + kSec, 3, 1, 0.95, kCpuCpu)));
}

TEST(ScalerTest, CpuBoundNeverAddsThreads) {
  Scaler s(Limits());
  // Threads below max, workers below cores: a worker, not threads.
  auto d = s.Decide(In(kT0, 1, 2, 0.95, kCpuCpu));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kWorkers);
  EXPECT_EQ(d->threads, 2);
  // Workers at cores, threads below max: nothing, not threads.
  for (int tick = 1; tick <= 20; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 4, 2, 1.0, kCpuCpu, 10)))
        << "tick " << tick;
}

TEST(ScalerTest, CpuBoundThresholdIsSixTenthsOfACoreWhileBusy) {
  Scaler s(Limits());
  auto d = s.Decide(In(kT0, 1, 1, 1.0, 0.6));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kWorkers);
  EXPECT_TRUE(Contains(d->reason, "CPU-bound")) << d->reason;
  d = s.Decide(In(kT0 + kSec, 1, 1, 1.0, 0.59));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kThreads);
  // 0.5 of a core over a tick that was busy for 80% of it: 0.625 while busy.
  d = s.Decide(In(kT0 + 2 * kSec, 1, 2, 0.8, 0.5));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kWorkers);
}

// The first tick of a load that began part-way through it: a queue, a low
// busy ratio and a diluted CPU demand. Judged by the demand while busy, it is
// CPU-bound, and no pile of threads is started.
TEST(ScalerTest, ALoadStartingMidTickIsJudgedByItsDemandWhileBusy) {
  Scaler s(Limits());
  auto d = s.Decide(In(kT0, 1, 1, 0.21, 0.23, 26));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kWorkers) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "(1.10 while busy)")) << d->reason;
  // The same tick for a load that waits: threads, to the maximum, and the
  // workers for the rest of the 97 queued ((0.26 + 97) x 1.25 / 16 -> 8).
  Scaler io(Limits());
  d = io.Decide(In(kT0, 1, 1, 0.26, 0.02, 97));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, 16);
  EXPECT_EQ(d->workers, 8);
}

// Requests waiting inside the workers for a thread (the queue the kernel cannot
// see once connections are accepted) size the threads in one step: 10 clients
// on a 50 ms route against 1 x 1 read busy 100% and 9 waiting.
TEST(ScalerTest, IoBoundWaitingRequestsSizeThreadsInOneStep) {
  ScalerLimits l = Limits();
  l.max_threads = 64;
  Scaler s(l);
  ScalerInputs in = In(kT0, 1, 1, 1.0);
  in.waiting = 9;
  auto d = s.Decide(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kThreads);
  EXPECT_EQ(d->threads, 13);  // (1 busy + 9 waiting) x 1.25 = 12.5
  EXPECT_TRUE(Contains(d->reason, "waiting 9.0")) << d->reason;
}

// At max threads, the workers the rest needs come in one step too, as many as
// the memory budget holds.
TEST(ScalerTest, IoBoundAtMaxThreadsAddsTheWorkersTheWaitingNeed) {
  ScalerLimits l = Limits();
  l.max_threads = 64;
  Scaler s(l);
  ScalerInputs in = In(kT0, 1, 64, 1.0, kIoCpu, 60);
  in.waiting = 76;  // 200 clients: 64 busy, 76 waiting, 60 queued
  auto d = s.Decide(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kWorkers);
  EXPECT_EQ(d->workers, 4);  // 200 x 1.25 / 64 = 3.9
  EXPECT_EQ(d->threads, 64);
  l.memory_budget_bytes = 300;  // 100 per worker now
  s.set_limits(l);
  in.memory_bytes = 100;
  d = s.Decide(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->workers, 3);
}

// A request seen waiting now and then (half a request on average) is not yet
// saturation; more is, even with the busy ratio below its threshold. And
// nothing waiting is needed for underuse.
TEST(ScalerTest, WaitingRequestsCountAsSaturationAndBlockUnderuse) {
  ScalerLimits l = Limits();
  l.scale_down_window_ns = 2 * kSec;
  Scaler s(l);
  ScalerInputs in = In(kT0, 2, 4, 0.5);
  in.waiting = 0.4;
  EXPECT_FALSE(s.Decide(in));
  in.waiting = 0.6;
  auto d = s.Decide(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kUp);
  // At the maximums, so waiting cannot scale up either.
  for (int tick = 0; tick <= 10; ++tick) {
    ScalerInputs low = In(kT0 + tick * kSec, 8, 16, 0.1);
    low.waiting = 1;
    EXPECT_FALSE(s.Decide(low)) << "tick " << tick;
  }
}

// Workers just added have not taken their share of the connections yet, so
// requests still waiting on the old ones are no reason to add more than
// Little's law asks; once the grace has passed, they are.
TEST(ScalerTest, WaitingRightAfterAddingWorkersWaitsForThemToSettle) {
  ScalerLimits l = Limits();
  l.max_threads = 128;
  Scaler s(l);
  ScalerInputs in = In(kT0, 1, 128, 1.0, kIoCpu, 60);
  in.waiting = 12;  // 200 clients: 128 busy, 12 waiting, 60 queued
  auto d = s.Decide(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->workers, 2);  // 200 x 1.25 / 128 = 1.95
  // A tick later: the first worker's 128 threads busy (the new one's are not
  // measured yet) and 10 requests waiting on it: Little's law asks for
  // (128 + 10) x 1.25 = 173 threads, which 2 x 128 have.
  ScalerInputs after = In(kT0 + kSec, 2, 128, 1.0);
  after.busy_threads = 128;
  after.waiting = 10;
  EXPECT_FALSE(s.Decide(after));
  after.now_ns = kT0 + kSec + Scaler::kNewWorkerGraceNs;
  // Afterwards, a request seen waiting now and then beside 56 idle threads is
  // the moment a thread takes to wake, not a shortage: nothing to add.
  ScalerInputs busy = after;
  busy.busy_ratio = 0.78;
  busy.busy_threads = 200;
  busy.waiting = 1;
  EXPECT_FALSE(s.Decide(busy));
  // More waiting than idle threads: one worker more.
  d = s.Decide(after);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->workers, 3);
}

// A load that began mid-tick: the waiting mean is taken over the busy part.
TEST(ScalerTest, WaitingIsJudgedOverTheBusyPartOfTheTick) {
  ScalerLimits l = Limits();
  l.max_threads = 64;
  Scaler s(l);
  ScalerInputs in = In(kT0, 1, 1, 0.5);
  in.waiting = 4.5;  // 9 waiting during the half of the tick the load ran
  auto d = s.Decide(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, 12);  // (0.5 busy + 4.5 / 0.5 waiting) x 1.25 = 11.9
  // Over the whole tick it would have read 6.25 -> 7, short of the 10 clients.
}

// CPU-bound at the cores, but a good share of the busy threads sleep on I/O (a
// mix of computing and slow I/O): the waiting requests get threads, not a
// trim; the workers stay at the cores.
TEST(ScalerTest, CpuBoundWithThreadsWaitingOnIoGrowsThreads) {
  ScalerLimits l = Limits();
  l.cores = 2;
  l.max_threads = 64;
  Scaler s(l);
  for (int tick = 0; tick < 5; ++tick) {
    ScalerInputs in = In(kT0 + tick * kSec, 2, 8, 1.0, kCpuCpu);
    in.waiting = 84;
    in.io_share = 0.5;
    auto d = s.Decide(in);
    ASSERT_TRUE(d) << "tick " << tick;
    EXPECT_EQ(d->direction, Direction::kUp);
    EXPECT_EQ(d->workers, 2);
    EXPECT_EQ(d->threads, 63);  // (16 + 84) x 1.25 / 2 = 62.5
    EXPECT_TRUE(Contains(d->reason, "busy threads on I/O 50%")) << d->reason;
  }
  // Once trimmed and grown back, a trim is not tried again under this load,
  // even after further growth.
  Scaler refuted(l);
  ScalerInputs pile = In(kT0, 2, 32, 1.0, kCpuCpu);
  pile.io_share = 0.05;
  std::optional<ScalerDecision> trim;
  for (int tick = 0; tick < 3; ++tick, pile.now_ns += kSec)
    trim = refuted.Decide(pile);
  ASSERT_TRUE(trim);
  EXPECT_EQ(trim->threads, 16);
  ScalerInputs mix = In(pile.now_ns, 2, 16, 1.0, kCpuCpu);
  mix.waiting = 40;
  mix.io_share = 0.5;
  for (int tick = 0; tick < 2; ++tick, mix.now_ns += kSec) {
    auto grow = refuted.Decide(mix);
    ASSERT_TRUE(grow);
    EXPECT_EQ(grow->direction, Direction::kUp);
    mix.threads = grow->threads;
  }
  pile = In(mix.now_ns, 2, mix.threads, 1.0, kCpuCpu);
  pile.io_share = 0.05;
  for (int tick = 0; tick < 10; ++tick, pile.now_ns += kSec)
    EXPECT_FALSE(refuted.Decide(pile)) << "tick " << tick;
  // The same load with the busy threads computing or waiting for the GIL: no
  // threads added; after kConfirmTicks, the pile is trimmed.
  Scaler gil(l);
  std::optional<ScalerDecision> d;
  for (int tick = 0; tick < 3; ++tick) {
    ScalerInputs in = In(kT0 + tick * kSec, 2, 8, 1.0, kCpuCpu);
    in.waiting = 84;
    in.io_share = 0.05;
    d = gil.Decide(in);
    if (tick < 2) {
      EXPECT_FALSE(d) << "tick " << tick;
    }
  }
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
  EXPECT_EQ(d->threads, Scaler::kCpuBoundThreads);
}

// --- Queue -------------------------------------------------------------------

TEST(ScalerTest, QueueCountsAsSaturation) {
  Scaler s(Limits());
  auto d = s.Decide(In(kT0, 1, 1, 0.1, kIoCpu, 1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kUp);
  EXPECT_EQ(d->kind, Kind::kThreads);
  d = s.Decide(In(kT0 + kSec, 1, 1, 0.0, kCpuCpu, 3));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kUp);
  EXPECT_EQ(d->kind, Kind::kWorkers);
}

TEST(ScalerTest, LowBusyWithAQueueIsNeverUnderuse) {
  Scaler s(Limits());
  // At the maximums, so the queue cannot scale up either.
  for (int tick = 0; tick <= 120; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 8, 16, 0.05, kIoCpu, 2)))
        << "tick " << tick;
}

// --- Memory budget -----------------------------------------------------------

TEST(ScalerTest, MemoryBudgetStopsAddingWorkers) {
  ScalerLimits l = Limits();
  l.memory_budget_bytes = 1000;
  Scaler s(l);
  // 2 workers at 300 each: a third fits exactly (900 <= 1000).
  EXPECT_TRUE(s.Decide(In(kT0, 2, 1, 0.95, kCpuCpu, 0, 600)));
  EXPECT_TRUE(s.Decide(In(kT0, 2, 16, 0.95, kIoCpu, 0, 600)));
  auto d = s.Decide(In(kT0, 2, 1, 0.95, kCpuCpu, 0, 666));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->workers, 3);
  // 2 workers at 400 each: a third would need 1200.
  EXPECT_FALSE(s.Decide(In(kT0, 2, 1, 0.95, kCpuCpu, 0, 800)));
  EXPECT_FALSE(s.Decide(In(kT0, 2, 16, 0.95, kIoCpu, 0, 800)));
  EXPECT_FALSE(s.Decide(In(kT0, 2, 16, 1.0, kIoCpu, 40, 800)));
}

TEST(ScalerTest, MemoryBudgetStillAllowsThreads) {
  ScalerLimits l = Limits();
  l.memory_budget_bytes = 1000;
  Scaler s(l);
  auto d = s.Decide(In(kT0, 2, 4, 0.95, kIoCpu, 0, 990));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kThreads);
  EXPECT_EQ(d->threads, 8);
}

TEST(ScalerTest, NoMemoryBudgetMeansNoMemoryLimit) {
  Scaler s(Limits());  // memory_budget_bytes 0
  EXPECT_TRUE(s.Decide(In(kT0, 2, 1, 0.95, kCpuCpu, 0, int64_t{1} << 40)));
}

// --- Hysteresis --------------------------------------------------------------

TEST(ScalerTest, BetweenThresholdsDoesNothingEitherWay) {
  Scaler s(Limits());
  for (int tick = 0; tick <= 200; ++tick) {
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 4, 8, 0.5)));
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 4, 1, 0.5, kCpuCpu)));
  }
}

TEST(ScalerTest, ThresholdEdges) {
  Scaler s(Limits());
  EXPECT_FALSE(s.Decide(In(kT0, 2, 2, 0.74)));
  EXPECT_TRUE(s.Decide(In(kT0, 2, 2, 0.75)));
  // 0.3 is not underuse: a whole window of it does nothing.
  for (int tick = 0; tick <= 60; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 2, 2, 0.3)));
  // 0.29 is.
  std::optional<ScalerDecision> d;
  for (int tick = 61; tick <= 91 && !d; ++tick)
    d = s.Decide(In(kT0 + tick * kSec, 2, 2, 0.29));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
}

// A recorded-shape hold: busy wandering inside the band, tick after tick.
TEST(ScalerTest, NoisyLoadInsideTheBandNeverFlaps) {
  Scaler s(Limits());
  uint32_t x = 12345;
  for (int tick = 0; tick < 1000; ++tick) {
    x = x * 1664525u + 1013904223u;
    double busy = 0.31 + 0.43 * (x >> 8) / double(1u << 24);  // [0.31, 0.74)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 3, 8, busy))) << busy;
  }
}

// --- Scale down --------------------------------------------------------------

TEST(ScalerTest, ScaleDownOnlyAfterAWholeWindowOfUnderuse) {
  Scaler s(Limits());
  for (int tick = 0; tick < 30; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 2, 16, 0.1))) << tick;
  auto d = s.Decide(In(kT0 + 30 * kSec, 2, 16, 0.1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
  EXPECT_EQ(d->kind, Kind::kWorkers);
  EXPECT_EQ(d->threads, 16);
  EXPECT_EQ(d->workers, 1);
}

TEST(ScalerTest, ScaleDownWaitsAnotherWholeWindowBeforeTheNextStep) {
  Scaler s(Limits());
  int w = 2, t = 16;
  std::vector<int64_t> at;
  for (int tick = 0; tick <= 100; ++tick) {
    auto d = s.Decide(In(kT0 + tick * kSec, w, t, 0.0));
    if (!d) continue;
    EXPECT_EQ(d->direction, Direction::kDown);
    w = d->workers;
    t = d->threads;
    at.push_back(tick);
  }
  EXPECT_EQ(at, (std::vector<int64_t>{30, 60, 90}));
  EXPECT_EQ(w, 1);  // 2 -> 1 worker, then 16 -> 8 -> 4 threads
  EXPECT_EQ(t, 4);
}

TEST(ScalerTest, ScaleDownRemovesWorkersToMinThenHalvesThreads) {
  ScalerLimits l = Limits();
  l.min_workers = 2;
  l.min_threads = 3;
  l.scale_down_window_ns = 10 * kSec;
  Scaler s(l);
  int w = 5, t = 16;
  std::vector<std::pair<int, int>> seen;
  std::vector<Kind> kinds;
  for (int tick = 0; tick <= 200; ++tick) {
    auto d = s.Decide(In(kT0 + tick * kSec, w, t, 0.05));
    if (!d) continue;
    EXPECT_EQ(d->direction, Direction::kDown);
    kinds.push_back(d->kind);
    w = d->workers;
    t = d->threads;
    seen.emplace_back(w, t);
  }
  // 5 -> 4 -> 3 -> 2 workers (they cost memory), then threads 16 -> 8 -> 4 ->
  // 3 (not 2: min_threads).
  const std::vector<std::pair<int, int>> want = {{4, 16}, {3, 16}, {2, 16},
                                                 {2, 8},  {2, 4},  {2, 3}};
  EXPECT_EQ(seen, want);
  const std::vector<Kind> want_kinds = {Kind::kWorkers, Kind::kWorkers,
                                        Kind::kWorkers, Kind::kThreads,
                                        Kind::kThreads, Kind::kThreads};
  EXPECT_EQ(kinds, want_kinds);
}

TEST(ScalerTest, AtTheMinimumsUnderuseDoesNothing) {
  Scaler s(Limits());
  for (int tick = 0; tick <= 300; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 1, 1, 0.0)));
}

TEST(ScalerTest, ABusyTickRestartsTheWindow) {
  Scaler s(Limits());
  for (int tick = 0; tick < 25; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 2, 16, 0.1)));
  // One tick in the band: no decision, but underuse is interrupted.
  EXPECT_FALSE(s.Decide(In(kT0 + 25 * kSec, 2, 16, 0.5)));
  // Underuse again from tick 26: nothing until 26 + 30 = 56.
  for (int tick = 26; tick < 56; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 2, 16, 0.1))) << tick;
  auto d = s.Decide(In(kT0 + 56 * kSec, 2, 16, 0.1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
}

TEST(ScalerTest, AQueueTickRestartsTheWindow) {
  Scaler s(Limits());
  for (int tick = 0; tick < 25; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 8, 16, 0.1)));
  // At the maximums, so the queued tick scales nothing up either.
  EXPECT_FALSE(s.Decide(In(kT0 + 25 * kSec, 8, 16, 0.1, kIoCpu, 1)));
  for (int tick = 26; tick < 56; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 8, 16, 0.1))) << tick;
  EXPECT_TRUE(s.Decide(In(kT0 + 56 * kSec, 8, 16, 0.1)));
}

TEST(ScalerTest, ABusyTickBetweenDownStepsRestartsTheWindow) {
  Scaler s(Limits());
  for (int tick = 0; tick < 30; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 2, 16, 0.1)));
  ASSERT_TRUE(s.Decide(In(kT0 + 30 * kSec, 2, 16, 0.1)));  // to 1 x 16
  for (int tick = 31; tick < 50; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 1, 16, 0.1)));
  EXPECT_FALSE(s.Decide(In(kT0 + 50 * kSec, 1, 16, 0.6)));
  for (int tick = 51; tick < 81; ++tick)
    EXPECT_FALSE(s.Decide(In(kT0 + tick * kSec, 1, 16, 0.1))) << tick;
  auto d = s.Decide(In(kT0 + 81 * kSec, 1, 16, 0.1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, 8);
}

// --- Mode transitions --------------------------------------------------------

using Load = ScalerMode::Load;
using Trim = ScalerMode::Trim;

TEST(ScalerTest, ModeFollowsEachTicksReading) {
  Scaler s(Limits());
  EXPECT_EQ(s.mode().load(), Load::kSteady);
  EXPECT_FALSE(s.Decide(In(kT0, 2, 4, 0.5)));  // between the thresholds
  EXPECT_EQ(s.mode().load(), Load::kSteady);
  EXPECT_FALSE(s.Decide(In(kT0 + kSec, 2, 4, 0.1)));
  EXPECT_EQ(s.mode().load(), Load::kUnderused);
  EXPECT_EQ(s.mode().underused_since_ns(), kT0 + kSec);
  EXPECT_FALSE(s.Decide(In(kT0 + 2 * kSec, 2, 4, 0.1)));
  EXPECT_EQ(s.mode().underused_since_ns(), kT0 + kSec);
  ASSERT_TRUE(s.Decide(In(kT0 + 3 * kSec, 2, 4, 0.9)));
  EXPECT_EQ(s.mode().load(), Load::kConfirmingIo);
  EXPECT_EQ(s.mode().streak(), 1);
  EXPECT_EQ(s.mode().underused_since_ns(), -1);
  ASSERT_TRUE(s.Decide(In(kT0 + 4 * kSec, 2, 8, 0.9)));
  EXPECT_EQ(s.mode().streak(), 2);
  ASSERT_TRUE(s.Decide(In(kT0 + 5 * kSec, 2, 8, 0.9, kCpuCpu)));
  EXPECT_EQ(s.mode().load(), Load::kConfirmingCpu);
  EXPECT_EQ(s.mode().streak(), 1);
  EXPECT_FALSE(s.Decide(In(kT0 + 6 * kSec, 3, 8, 0.5)));
  EXPECT_EQ(s.mode().load(), Load::kSteady);
  EXPECT_EQ(s.mode().streak(), 0);
}

TEST(ScalerTest, AddingWorkersStartsTheirSettlingGraceAndThreadsDoNot) {
  Scaler s(Limits());
  ASSERT_TRUE(s.Decide(In(kT0, 2, 4, 0.9)));  // threads
  EXPECT_EQ(s.mode().workers_added_ns(), -1);
  ASSERT_TRUE(s.Decide(In(kT0 + kSec, 2, 16, 0.9)));  // a worker
  EXPECT_EQ(s.mode().workers_added_ns(), kT0 + kSec);
  EXPECT_FALSE(s.Decide(In(kT0 + 2 * kSec, 3, 16, 0.1)));
  EXPECT_EQ(s.mode().workers_added_ns(), kT0 + kSec);
}

TEST(ScalerTest, AScaleDownStepRestartsTheUnderuseWindowAtThatTick) {
  Scaler s(Limits());
  EXPECT_FALSE(s.Decide(In(kT0, 3, 4, 0.1)));
  auto d = s.Decide(In(kT0 + 30 * kSec, 3, 4, 0.1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->workers, 2);
  EXPECT_EQ(s.mode().load(), Load::kUnderused);
  EXPECT_EQ(s.mode().underused_since_ns(), kT0 + 30 * kSec);
}

// At the cores with a pile of threads: trimmed after kConfirmTicks CPU-bound
// ticks; an I/O-bound reading grows them back only once it has held as long,
// which refutes the trim; no trim then until the pool has been underused.
TEST(ScalerTest, ACpuTrimIsRefutedByConfirmedRegrowthUntilUnderuse) {
  ScalerLimits l = Limits();
  l.cores = 2;
  l.max_threads = 64;
  Scaler s(l);
  int64_t t = kT0;
  std::optional<ScalerDecision> d;
  for (int tick = 0; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    d = s.Decide(In(t, 2, 32, 1.0, kCpuCpu));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
  EXPECT_EQ(d->threads, 16);
  EXPECT_EQ(s.mode().trim(), Trim::kTrimmed);
  EXPECT_EQ(s.mode().streak(), 0);

  for (int tick = 1; tick < Scaler::kConfirmTicks; ++tick, t += kSec) {
    EXPECT_FALSE(s.Decide(In(t, 2, 16, 1.0))) << "regrown unconfirmed";
    EXPECT_EQ(s.mode().trim(), Trim::kTrimmed);
  }
  d = s.Decide(In(t, 2, 16, 1.0));
  t += kSec;
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kUp);
  EXPECT_EQ(d->threads, 32);
  EXPECT_EQ(s.mode().trim(), Trim::kRefuted);

  for (int tick = 0; tick < 2 * Scaler::kConfirmTicks; ++tick, t += kSec)
    EXPECT_FALSE(s.Decide(In(t, 2, 32, 1.0, kCpuCpu))) << tick;
  EXPECT_EQ(s.mode().trim(), Trim::kRefuted);

  EXPECT_FALSE(s.Decide(In(t, 2, 32, 0.1)));  // the load is over
  t += kSec;
  EXPECT_EQ(s.mode().trim(), Trim::kNone);
  for (int tick = 0; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    d = s.Decide(In(t, 2, 32, 1.0, kCpuCpu));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
  EXPECT_EQ(s.mode().trim(), Trim::kTrimmed);
}

// Underuse forgives a refuted trim but not a trim: after it, growing back
// under an I/O-bound load still waits for the reading to hold.
TEST(ScalerTest, ATrimOutlivesUnderuse) {
  ScalerLimits l = Limits();
  l.cores = 2;
  l.max_threads = 64;
  Scaler s(l);
  int64_t t = kT0;
  for (int tick = 0; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    s.Decide(In(t, 2, 32, 1.0, kCpuCpu));
  ASSERT_EQ(s.mode().trim(), Trim::kTrimmed);
  EXPECT_FALSE(s.Decide(In(t, 2, 16, 0.1)));
  t += kSec;
  EXPECT_EQ(s.mode().trim(), Trim::kTrimmed);
  for (int tick = 1; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    EXPECT_FALSE(s.Decide(In(t, 2, 16, 1.0))) << tick;
  auto d = s.Decide(In(t, 2, 16, 1.0));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kUp);
}

// Busy threads seen blocked on I/O contradict a CPU-bound reading: the count
// towards a trim starts again.
TEST(ScalerTest, ThreadsWaitingOnIoRestartTheCountTowardsATrim) {
  ScalerLimits l = Limits();
  l.cores = 2;
  l.max_threads = 64;
  Scaler s(l);
  int64_t t = kT0;
  for (int tick = 1; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    EXPECT_FALSE(s.Decide(In(t, 2, 32, 1.0, kCpuCpu)));
  EXPECT_EQ(s.mode().streak(), Scaler::kConfirmTicks - 1);
  ScalerInputs mixed = In(t, 2, 32, 1.0, kCpuCpu);
  mixed.io_share = 0.5;  // nothing waiting: no threads added either
  EXPECT_FALSE(s.Decide(mixed));
  t += kSec;
  EXPECT_EQ(s.mode().load(), Load::kConfirmingCpu);
  EXPECT_EQ(s.mode().streak(), 0);
  for (int tick = 1; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    EXPECT_FALSE(s.Decide(In(t, 2, 32, 1.0, kCpuCpu))) << tick;
  auto d = s.Decide(In(t, 2, 32, 1.0, kCpuCpu));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, Direction::kDown);
}

// --- Reasons -----------------------------------------------------------------

TEST(ScalerTest, CpuBoundAddsProcessesThenTrimsAPileOfThreadsOnceConfirmed) {
  ScalerLimits l = Limits();
  l.cores = 2;
  Scaler s(l);
  // Processes first, at once.
  auto d = s.Decide(In(kT0, 1, 16, 1.0, kCpuCpu, 10));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Kind::kWorkers);
  EXPECT_EQ(d->workers, 2);
  EXPECT_EQ(d->threads, 16);
  // At the cores, the extra threads only add GIL hand-offs: halved once the
  // reading has held for kConfirmTicks ticks, and again after kConfirmTicks
  // more, down to kCpuBoundThreads.
  int64_t t = kT0 + kSec;
  for (int tick = 2; tick < Scaler::kConfirmTicks; ++tick, t += kSec)
    EXPECT_FALSE(s.Decide(In(t, 2, 16, 1.0, kCpuCpu, 10))) << tick;
  d = s.Decide(In(t, 2, 16, 1.0, kCpuCpu, 10));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->direction, ScalerDecision::Direction::kDown);
  EXPECT_EQ(d->kind, Kind::kThreads);
  EXPECT_EQ(d->threads, 8);
  for (int tick = 1; tick < Scaler::kConfirmTicks; ++tick)
    EXPECT_FALSE(s.Decide(In(t += kSec, 2, 8, 1.0, kCpuCpu, 10))) << tick;
  d = s.Decide(In(t += kSec, 2, 8, 1.0, kCpuCpu, 10));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->threads, Scaler::kCpuBoundThreads);
  for (int tick = 0; tick < 10; ++tick)
    EXPECT_FALSE(s.Decide(In(t += kSec, 2, 4, 1.0, kCpuCpu, 10))) << tick;
}

// An I/O-bound load with many threads on a crowded machine can read CPU-bound
// (every wake-up waits for a core) and, once trimmed, I/O-bound again. The
// scaler turns the thread count around at most twice in such a load, not
// every tick.
TEST(ScalerTest, ContradictoryReadingsDoNotFlapTheThreadCount) {
  ScalerLimits l = Limits();
  l.cores = 2;
  l.max_workers = 2;
  l.max_threads = 64;
  Scaler s(l);
  int w = 2, t = 64, reversals = 0;
  Kind last_kind = Kind::kWorkers;
  Direction last_direction = Direction::kUp;
  for (int tick = 0; tick < 60; ++tick) {
    // Many threads read CPU-bound, few read waiting.
    double demand = t > 8 ? 1.5 : 0.1;
    auto d = s.Decide(In(kT0 + tick * kSec, w, t, 1.0, demand, 5));
    if (!d) continue;
    if (d->kind == Kind::kThreads && last_kind == Kind::kThreads &&
        d->direction != last_direction)
      ++reversals;
    last_kind = d->kind;
    last_direction = d->direction;
    w = d->workers;
    t = d->threads;
  }
  EXPECT_EQ(reversals, 1);
  EXPECT_GT(t, Scaler::kCpuBoundThreads) << "the confirmed waiting wins";
}

TEST(ScalerTest, DecisionsCarryAReasonNamingTheInputs) {
  Scaler s(Limits());
  auto d = s.Decide(In(kT0, 2, 4, 0.8, 0.1, 3));
  ASSERT_TRUE(d);
  EXPECT_TRUE(Contains(d->reason, "I/O")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "busy 80%")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "queue 3")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "cpu demand 0.10 core/worker")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "2 worker(s) x 4 thread(s)")) << d->reason;

  d = s.Decide(In(kT0 + kSec, 3, 1, 0.9, 0.97));
  ASSERT_TRUE(d);
  EXPECT_TRUE(Contains(d->reason, "CPU-bound")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "busy 90%")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "cpu demand 0.97 core/worker")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "3 worker(s) x 1 thread(s)")) << d->reason;

  Scaler down(Limits());
  d.reset();
  for (int tick = 0; tick <= 30 && !d; ++tick)
    d = down.Decide(In(kT0 + tick * kSec, 5, 8, 0.12));
  ASSERT_TRUE(d);
  EXPECT_TRUE(Contains(d->reason, "underused")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "busy 12%")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "queue 0")) << d->reason;
  EXPECT_TRUE(Contains(d->reason, "5 worker(s) x 8 thread(s)")) << d->reason;
}

// --- Traces ------------------------------------------------------------------

// A closed-loop model of a pool under I/O-bound load: `demand` requests in
// flight, each holding a thread; what does not fit waits in the queue.
struct Tick {
  int tick;
  ScalerDecision decision;
};

ScalerInputs Model(int64_t now_ns, int w, int t, double demand, double cpu) {
  double capacity = double(w) * t;
  double busy = std::min(1.0, demand / capacity);
  int64_t queue = static_cast<int64_t>(std::max(0.0, demand - capacity));
  return In(now_ns, w, t, busy, cpu, queue, int64_t{w} * 50'000'000);
}

// 100 one-second ticks: idle, rising to 60 requests in flight over 20 s,
// holding for 30 s, falling over 10 s to a trickle (half a request in flight
// on average), then low.
double RiseHoldFall(int tick) {
  if (tick < 20) return 3.0 * tick;
  if (tick < 50) return 60;
  return std::max(0.5, 60.0 - 6.0 * (tick - 49));
}

TEST(ScalerTest, TraceIoBoundRiseHoldFall) {
  ScalerLimits l = Limits();
  l.max_workers = 6;
  l.cores = 2;
  l.scale_down_window_ns = 5 * kSec;  // short, so the fall fits the trace
  Scaler s(l);
  int w = 1, t = 1, peak_w = 0, peak_t = 0;
  std::vector<Tick> log;
  for (int tick = 0; tick < 100; ++tick) {
    auto d = s.Decide(Model(kT0 + tick * kSec, w, t, RiseHoldFall(tick), 0.05));
    if (!d) continue;
    log.push_back({tick, *d});
    w = d->workers;
    t = d->threads;
    peak_w = std::max(peak_w, w);
    peak_t = std::max(peak_t, t);
  }
  std::string trace;
  for (const Tick& e : log)
    trace += std::to_string(e.tick) + ": " + e.decision.reason + "\n";
  // Up: threads 1 -> 16 in a few ticks, then workers up to 5: 80 threads for
  // 60 in flight, what Little's law asks with a quarter to spare (busy 0.75,
  // no queue: a sixth worker would only idle). Down, from tick 55 when busy
  // drops under 0.3: workers, then threads, one step per 5 s window.
  EXPECT_EQ(peak_t, 16) << trace;
  EXPECT_EQ(peak_w, 5) << trace;
  EXPECT_EQ(w, 1) << trace;
  EXPECT_EQ(t, 1) << trace;
  // Few decisions: 3 thread and 4 worker steps up, 4 worker and 4 thread steps
  // down.
  EXPECT_EQ(log.size(), 15u) << trace;
  // All the ups before all the downs (no flapping), thread steps before
  // worker steps up and after them down, downs a whole window apart, none
  // while it holds.
  auto phase = [](const ScalerDecision& d) {
    bool up = d.direction == Direction::kUp;
    bool threads = d.kind == Kind::kThreads;
    return up ? (threads ? 0 : 1) : (threads ? 3 : 2);
  };
  for (size_t i = 1; i < log.size(); ++i) {
    EXPECT_LE(phase(log[i - 1].decision), phase(log[i].decision)) << trace;
    if (log[i].decision.direction == Direction::kDown) {
      EXPECT_GE(log[i].tick, 55) << trace;
      if (log[i - 1].decision.direction == Direction::kDown) {
        EXPECT_GE(log[i].tick - log[i - 1].tick, 5) << trace;
      }
    }
  }
}

// The same shape, CPU-bound, on 2 cores: processes up to the cores, never a
// thread, however long it stays saturated.
TEST(ScalerTest, TraceCpuBoundRiseHoldFall) {
  ScalerLimits l = Limits();
  l.max_workers = 6;
  l.cores = 2;
  Scaler s(l);
  int w = 1, t = 1;
  int decisions = 0;
  for (int tick = 0; tick < 100; ++tick) {
    // CPU-bound: in-flight work beyond the cores queues up.
    double demand = RiseHoldFall(tick) / 10;
    auto d = s.Decide(Model(kT0 + tick * kSec, w, t, demand, 0.95));
    if (!d) continue;
    ++decisions;
    if (d->direction == Direction::kUp) {
      EXPECT_EQ(d->kind, Kind::kWorkers);
    }
    w = d->workers;
    t = d->threads;
    EXPECT_LE(w, 2);
    EXPECT_EQ(t, 1);
  }
  EXPECT_EQ(w, 1);  // shrunk back after the 30 s window of the low phase
  EXPECT_LE(decisions, 2);
}

}  // namespace
}  // namespace wsgid
