// The load sampler on recorded readings: a fake LoadReader hands out what the
// scoreboard and /proc would have said at each tick; the test checks the
// scaler inputs computed from two ticks. No /proc, no processes.
#include "daemon/load_sampler.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kSec;  // any monotonic time

class RecordedLoad : public LoadReader {
 public:
  WorkerReading ReadWorker(int id, pid_t) override {
    ++reads;
    return workers[id];
  }
  int64_t ListenQueue() override { return queue; }

  std::map<int, WorkerReading> workers;  // by slot id
  int64_t queue = 0;
  int reads = 0;
};

WorkerReading Threads(std::vector<int64_t> busy_ns) {
  WorkerReading r;
  for (int64_t b : busy_ns) r.threads.push_back({b, false, 0});
  return r;
}

class LoadSamplerTest : public ::testing::Test {
 protected:
  std::optional<ScalerInputs> Sample(int64_t now_ns) {
    return sampler_.Sample(now_ns, workers_, /*desired=*/2, /*threads=*/4,
                           &load_);
  }

  LoadSampler sampler_;
  RecordedLoad load_;
  std::vector<SampledWorker> workers_ = {{1, 101}};
};

TEST_F(LoadSamplerTest, TheFirstSampleOnlyTakesTheStartingValues) {
  load_.workers[1] = Threads({5 * kSec, 0});
  EXPECT_FALSE(Sample(kT0).has_value());
  EXPECT_EQ(load_.reads, 1);
  EXPECT_EQ(sampler_.last_sample_ns(), kT0);
}

TEST_F(LoadSamplerTest, BusyTimeIsTheDifferenceOverTheInterval) {
  load_.workers[1] = Threads({5 * kSec, 7 * kSec});
  Sample(kT0);
  load_.workers[1] = Threads({5 * kSec + kSec / 2, 7 * kSec});
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->now_ns, kT0 + kSec);
  EXPECT_EQ(in->workers, 2);  // passed through
  EXPECT_EQ(in->threads, 4);
  EXPECT_DOUBLE_EQ(in->busy_ratio, 0.25);   // 0.5 s of 2 thread-seconds
  EXPECT_DOUBLE_EQ(in->busy_threads, 0.5);  // 0.5 s in 1 s
}

TEST_F(LoadSamplerTest, ARequestStillRunningCountsUpToNow) {
  load_.workers[1] = Threads({0});
  Sample(kT0);
  WorkerReading running = Threads({0});
  running.threads[0].busy = true;
  running.threads[0].request_start_ns = kT0 + kSec - 3 * kSec / 10;
  load_.workers[1] = running;
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->busy_threads, 0.3);
}

TEST_F(LoadSamplerTest, TheWorkersFiguresAreBoundedByTheInterval) {
  load_.workers[1] = Threads({10 * kSec, 10 * kSec});
  Sample(kT0);
  // One thread claims an hour of work in a second, the other went backwards.
  load_.workers[1] = Threads({3600 * kSec, 0});
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->busy_ratio, 0.5);
  EXPECT_DOUBLE_EQ(in->busy_threads, 1.0);
}

TEST_F(LoadSamplerTest, CpuDemandPerMeasuredWorker) {
  WorkerReading r = Threads({0});
  r.cpu_demand_by_thread = {{101, 1.0}, {102, 2.0}};
  load_.workers[1] = r;
  Sample(kT0);
  // Its threads: 0.5 s and 0.25 s more, plus a thread new since (all of its
  // 0.25 s counts, as the worker was seen before).
  r.cpu_demand_by_thread = {{101, 1.5}, {102, 2.25}, {103, 0.25}};
  load_.workers[1] = r;
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->cpu_demand, 1.0);
}

TEST_F(LoadSamplerTest, ANewWorkersCpuDemandIsItsStartUpAndDoesNotCount) {
  WorkerReading first = Threads({0});
  first.cpu_demand_by_thread = {{101, 1.0}};
  load_.workers[1] = first;
  Sample(kT0);
  first.cpu_demand_by_thread = {{101, 1.5}};
  WorkerReading second = Threads({0});
  second.cpu_demand_by_thread = {{201, 3.0}, {202, 1.0}};
  load_.workers = {{1, first}, {2, second}};
  workers_ = {{1, 101}, {2, 201}};
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->cpu_demand, 0.5);  // worker 1 alone
}

TEST_F(LoadSamplerTest, WaitingRequestsQueueAndMemory) {
  WorkerReading r = Threads({0});
  r.waiting_ns = 4 * kSec;
  r.pss_bytes = 100;
  load_.workers[1] = r;
  Sample(kT0);
  r.waiting_ns = 4 * kSec + 3 * kSec / 2;  // 1.5 requests waiting on average
  r.pss_bytes = 300;
  load_.workers[1] = r;
  load_.queue = 7;
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->waiting, 1.5);
  EXPECT_EQ(in->queue, 7);
  EXPECT_EQ(in->memory_bytes, 300);  // now, not a difference
}

TEST_F(LoadSamplerTest, IoShareOfTheThreadsAtWork) {
  WorkerReading r = Threads({0});
  load_.workers[1] = r;
  Sample(kT0);
  r.thread_states.io_wait = 3;
  r.thread_states.lock_wait = 1;
  r.thread_states.computing = 2;
  r.thread_states.idle = 5;  // not at work: not counted
  load_.workers[1] = r;
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->io_share, 0.5);
}

TEST_F(LoadSamplerTest, NoThreadAtWorkLeavesTheIoShareUnknown) {
  load_.workers[1] = Threads({0});
  Sample(kT0);
  auto in = Sample(kT0 + kSec);
  ASSERT_TRUE(in.has_value());
  EXPECT_DOUBLE_EQ(in->io_share, -1);
}

TEST_F(LoadSamplerTest, NoThreadSeenTwiceGivesNoInputs) {
  load_.workers[1] = Threads({0});
  Sample(kT0);
  // Worker 1 was replaced by worker 2 in between.
  load_.workers[2] = Threads({0});
  workers_ = {{2, 202}};
  EXPECT_FALSE(Sample(kT0 + kSec).has_value());
  // The next tick measures worker 2.
  EXPECT_TRUE(Sample(kT0 + 2 * kSec).has_value());
}

TEST_F(LoadSamplerTest, ResetStartsOver) {
  load_.workers[1] = Threads({0});
  Sample(kT0);
  sampler_.Reset();
  EXPECT_EQ(sampler_.last_sample_ns(), 0);
  EXPECT_FALSE(Sample(kT0 + kSec).has_value());
  EXPECT_TRUE(Sample(kT0 + 2 * kSec).has_value());
}

}  // namespace
}  // namespace wsgid
