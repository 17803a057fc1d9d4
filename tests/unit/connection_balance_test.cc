// The keep-alive connection quota the master hands each worker.
#include "daemon/connection_balance.h"

#include <gtest/gtest.h>

namespace wsgid {
namespace {

TEST(ConnectionQuotaTest, NoLimitWithOneWorkerOrNoConnections) {
  EXPECT_EQ(ConnectionQuota(100, 1), 0u);
  EXPECT_EQ(ConnectionQuota(100, 0), 0u);
  EXPECT_EQ(ConnectionQuota(0, 4), 0u);
}

TEST(ConnectionQuotaTest, EvenShareRoundedUpPlusOne) {
  // 10 clients on the worker that had them all when a second one started:
  // it keeps 6 and sends 4 to reconnect.
  EXPECT_EQ(ConnectionQuota(10, 2), 6u);
  EXPECT_EQ(ConnectionQuota(3, 2), 3u);
  EXPECT_EQ(ConnectionQuota(1, 2), 2u);
}

TEST(ConnectionQuotaTest, SlackGrowsWithTheShare) {
  // 32 clients on 2 workers: share 16, slack 1 + 2.
  EXPECT_EQ(ConnectionQuota(32, 2), 19u);
  // 200 on 4: share 50, slack 1 + 6.
  EXPECT_EQ(ConnectionQuota(200, 4), 57u);
}

TEST(ConnectionQuotaTest, TheQuotasAlwaysHoldEveryConnection) {
  // Above every worker's quota at once is impossible: no worker must shed
  // connections that no other worker could take.
  for (uint64_t total = 1; total < 2000; total += 7)
    for (int workers = 2; workers < 40; ++workers)
      EXPECT_GE(uint64_t{ConnectionQuota(total, workers)} * workers,
                total + workers)
          << total << " on " << workers;
}

TEST(ConnectionQuotaTest, HugeCountsSaturate) {
  EXPECT_EQ(ConnectionQuota(UINT64_MAX / 2, 2), UINT32_MAX);
}

}  // namespace
}  // namespace wsgid
