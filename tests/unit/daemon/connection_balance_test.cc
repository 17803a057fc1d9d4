// The keep-alive connection quota the master hands each worker.
#include "daemon/connection_balance.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "common/scoreboard.h"

namespace wsgid {
namespace {

TEST(ConnectionQuotaTest, NoLimitWithOneWorkerOrNoConnections) {
  EXPECT_EQ(ConnectionQuota(100, 1), 0u);
  EXPECT_EQ(ConnectionQuota(100, 0), 0u);
  EXPECT_EQ(ConnectionQuota(0, 4), 0u);
}

TEST(ConnectionQuotaTest, SmallPoolsAreHeldToTheEvenShare) {
  // 10 clients on the worker that had them all when a second one started:
  // it keeps 5 and sends 5 to reconnect.
  EXPECT_EQ(ConnectionQuota(10, 2), 5u);
  // 2 clients on 2 workers: one each (a CPU-bound load needs both cores).
  EXPECT_EQ(ConnectionQuota(2, 2), 1u);
  EXPECT_EQ(ConnectionQuota(3, 2), 2u);
  EXPECT_EQ(ConnectionQuota(1, 2), 1u);
}

TEST(ConnectionQuotaTest, SlackOfAnEighthInLargePools) {
  // 32 clients on 2 workers: share 16, slack 2.
  EXPECT_EQ(ConnectionQuota(32, 2), 18u);
  // 200 on 4: share 50, slack 6.
  EXPECT_EQ(ConnectionQuota(200, 4), 56u);
}

TEST(ConnectionQuotaTest, TheQuotasAlwaysHoldEveryConnection) {
  // Above every worker's quota at once is impossible: no worker must shed
  // connections that no other worker could take.
  for (uint64_t total = 1; total < 2000; total += 7)
    for (int workers = 2; workers < 40; ++workers)
      EXPECT_GE(uint64_t{ConnectionQuota(total, workers)} * workers, total)
          << total << " on " << workers;
}

TEST(ConnectionQuotaTest, HugeCountsSaturate) {
  EXPECT_EQ(ConnectionQuota(UINT64_MAX / 2, 2), UINT32_MAX);
}

}  // namespace
}  // namespace wsgid

namespace wsgid {
namespace {

// Scoreboard slots are large (a sub-slot per possible thread): on the heap.
std::vector<std::unique_ptr<WorkerSlot>> Slots(std::vector<uint32_t> held) {
  std::vector<std::unique_ptr<WorkerSlot>> slots;
  for (uint32_t n : held) {
    slots.push_back(std::make_unique<WorkerSlot>());
    slots.back()->connections.store(n);
    slots.back()->connection_quota.store(12345);
  }
  return slots;
}

TEST(ApplyConnectionQuotasTest, ReadyWorkersShareTheirConnections) {
  auto slots = Slots({10, 0, 4});
  // The third is draining: its connections are not shared, and it has no
  // quota.
  ApplyConnectionQuotas({{slots[0].get(), true},
                         {slots[1].get(), true},
                         {slots[2].get(), false}});
  EXPECT_EQ(slots[0]->connection_quota.load(), 5u);
  EXPECT_EQ(slots[1]->connection_quota.load(), 5u);
  EXPECT_EQ(slots[2]->connection_quota.load(), 0u);
}

TEST(ApplyConnectionQuotasTest, OneReadyWorkerHasNoLimit) {
  auto slots = Slots({10, 3});
  ApplyConnectionQuotas({{slots[0].get(), true}, {slots[1].get(), false}});
  EXPECT_EQ(slots[0]->connection_quota.load(), 0u);
  EXPECT_EQ(slots[1]->connection_quota.load(), 0u);
}

TEST(ApplyConnectionQuotasTest, AWorkersCountIsBounded) {
  // A worker claiming four billion connections cannot make the quota huge.
  auto slots = Slots({0xFFFFFFFFu, 0});
  ApplyConnectionQuotas({{slots[0].get(), true}, {slots[1].get(), true}});
  EXPECT_EQ(slots[0]->connection_quota.load(), ConnectionQuota(1u << 24, 2));
}

}  // namespace
}  // namespace wsgid
