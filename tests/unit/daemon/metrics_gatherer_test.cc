// What /metrics reads at a scrape: a real scoreboard (a memfd, no workers),
// fake listeners and a fake resident-memory reader.
#include "daemon/metrics_gatherer.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <memory>
#include <string>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;

class FakeSockets : public SocketOps {
 public:
  StatusOr<UniqueFd> Open(const std::string&, int) override {
    return UniqueFd(::eventfd(0, EFD_CLOEXEC));
  }
  void Adopt(int) override {}
  std::string Describe(int) override { return "127.0.0.1:8000"; }
  int64_t QueueLength(int) override { return 5; }
};

int64_t FakeResident(pid_t pid) { return pid * 1000; }

TEST(GatherMetricsInputTest, HeartbeatAgesThreadsAndQueues) {
  auto board = Scoreboard::Create(4);
  ASSERT_TRUE(board.ok());
  WorkerSlots slots(std::move(board).value());
  slots.Claim(1, 7 * kSec, 2);
  slots.Claim(2, 9 * kSec, 2);
  slots.slot(1).threads.store(2);
  slots.slot(1).thread[1].busy.store(1);
  slots.slot(2).threads.store(3);
  FakeSockets sockets;
  ListenerSet listeners(&sockets);
  ASSERT_TRUE(listeners.Open({"127.0.0.1:8000"}, 16).ok());

  PoolSnapshot pool;
  pool.autoscale = true;
  pool.workers = {{1, 11, 1, WorkerState::kReady},
                  {2, 12, 1, WorkerState::kStarting},
                  {9, 13, 1, WorkerState::kReady}};  // no such slot: skipped
  RequestTotals totals;
  MetricsInput in = GatherMetricsInput(pool, totals, &slots, listeners,
                                       10 * kSec, &FakeResident);
  EXPECT_EQ(in.pool, &pool);
  EXPECT_EQ(in.totals, &totals);
  EXPECT_TRUE(in.autoscale_enabled);
  EXPECT_EQ(in.running_threads, 5);
  EXPECT_EQ(in.busy_threads, 1);
  ASSERT_EQ(in.workers.size(), 2u);
  EXPECT_EQ(in.workers[0].id, 1);
  EXPECT_DOUBLE_EQ(in.workers[0].heartbeat_age_seconds, 3.0);
  EXPECT_EQ(in.workers[0].rss_bytes, 11000);
  EXPECT_DOUBLE_EQ(in.workers[1].heartbeat_age_seconds, 0);  // starting
  ASSERT_EQ(in.listen_queues.size(), 1u);
  EXPECT_EQ(in.listen_queues[0].second, 5);
}

TEST(GatherMetricsInputTest, AHeartbeatFromTheFutureIsAgeZero) {
  auto board = Scoreboard::Create(1);
  ASSERT_TRUE(board.ok());
  WorkerSlots slots(std::move(board).value());
  slots.Claim(1, 50 * kSec, 1);
  FakeSockets sockets;
  ListenerSet listeners(&sockets);
  PoolSnapshot pool;
  pool.workers = {{1, 11, 1, WorkerState::kReady}};
  RequestTotals totals;
  MetricsInput in = GatherMetricsInput(pool, totals, &slots, listeners,
                                       10 * kSec, &FakeResident);
  ASSERT_EQ(in.workers.size(), 1u);
  EXPECT_DOUBLE_EQ(in.workers[0].heartbeat_age_seconds, 0);
}

}  // namespace
}  // namespace wsgid
