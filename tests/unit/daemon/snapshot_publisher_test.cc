// The snapshot's hand-over between threads, and the pool's part of it, from a
// WorkerPool driven by a fake ProcessControl.
#include "daemon/snapshot_publisher.h"

#include <gtest/gtest.h>

#include <thread>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;

// Fake pids; every worker fresh and idle.
class FakeProcesses : public ProcessControl {
 public:
  StatusOr<pid_t> Spawn(int, int) override { return next_pid_++; }
  void Signal(pid_t, int) override {}
  WorkerObservation Observe(int) override {
    WorkerObservation o;
    o.heartbeat_ns = now;
    o.threads.emplace_back();
    return o;
  }
  uint64_t RequestsServed(int) override { return 0; }
  int64_t ResidentMemory(pid_t) override { return 0; }

  int64_t now = kSec;

 private:
  pid_t next_pid_ = 100;
};

TEST(DescribePoolTest, TheWorkersByTheirPublicState) {
  FakeProcesses processes;
  PoolOptions options;
  options.workers = 2;
  WorkerPool pool(&processes, options);
  pool.Start(kSec);
  ASSERT_EQ(pool.workers().size(), 2u);
  pid_t first = pool.workers().begin()->first;
  pool.OnReady(first, kSec);
  PoolSnapshot s;
  DescribePool(pool, &s);
  EXPECT_EQ(s.desired, 2);
  EXPECT_EQ(s.generation, pool.generation());
  EXPECT_EQ(s.spawns, 2u);
  ASSERT_EQ(s.workers.size(), 2u);
  EXPECT_EQ(s.CountInState(WorkerState::kReady), 1);
  EXPECT_EQ(s.CountInState(WorkerState::kStarting), 1);
  for (const PoolSnapshot::Worker& w : s.workers) {
    const WorkerPool::Worker& in_pool = pool.workers().at(w.pid);
    EXPECT_EQ(w.id, in_pool.id);
    EXPECT_EQ(w.generation, in_pool.generation);
  }
}

TEST(SnapshotPublisherTest, ReadersSeeTheLatestWhole) {
  SnapshotPublisher publisher;
  EXPECT_EQ(publisher.Latest().desired, 0);
  std::thread reader([&] {
    for (int i = 0; i < 1000; ++i) {
      PoolSnapshot s = publisher.Latest();
      // Each snapshot is published whole: its fields agree.
      EXPECT_EQ(s.desired, s.generation);
    }
  });
  for (int i = 1; i <= 1000; ++i) {
    PoolSnapshot s;
    s.desired = i;
    s.generation = i;
    publisher.Publish(std::move(s));
  }
  reader.join();
  EXPECT_EQ(publisher.Latest().desired, 1000);
}

}  // namespace
}  // namespace wsgid
