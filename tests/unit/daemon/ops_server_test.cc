// The ops port's probes as pure functions of the supervisor's snapshot and a
// fake clock (the server around them is exercised by test_control.py).
#include "daemon/ops_server.h"

#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"

namespace wsgid {
namespace {

TEST(OpsServerTest, LiveWhileTheLoopTurnedWithinFiveSeconds) {
  PoolSnapshot pool;
  pool.loop_turned_ns = 100 * kNsPerSec;
  ProbeAnswer answer = Liveness(pool, 104 * kNsPerSec);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(std::string(answer.text), "ok\n");
  answer = Liveness(pool, 105 * kNsPerSec);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(std::string(answer.text), "supervisor loop stalled\n");
}

TEST(OpsServerTest, ReadyWithAReadyWorkerAndNoStop) {
  PoolSnapshot pool;
  pool.workers = {{1, 10, 1, WorkerState::kStarting}};
  ProbeAnswer answer = Readiness(pool);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(std::string(answer.text), "no ready worker\n");
  pool.workers.push_back({2, 11, 1, WorkerState::kReady});
  answer = Readiness(pool);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(std::string(answer.text), "ready\n");
  pool.stopping = true;
  answer = Readiness(pool);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(std::string(answer.text), "stopping\n");
}

TEST(OpsServerTest, AStopOutranksTheWorkerCount) {
  PoolSnapshot pool;
  pool.stopping = true;
  EXPECT_EQ(std::string(Readiness(pool).text), "stopping\n");
}

}  // namespace
}  // namespace wsgid
