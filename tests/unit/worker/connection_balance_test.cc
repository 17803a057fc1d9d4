// Unit tests for worker/connection_balance.h: the master's quota (bounded,
// absent), how long an excess must last before keep-alives are shed, never a
// first request, the surplus shed once across threads, and closes releasing
// the marks. Fake clock: Observe takes now_ns.
#include "worker/connection_balance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

namespace wsgid {
namespace {

constexpr int64_t kT0 = 1000 * kNsPerSec;
constexpr int64_t kAfter = ConnectionBalance::kShedAfterNs;

// A connection past its first request, so it may be shed.
Connection* Served(Connection* conn) {
  conn->requests = 1;
  return conn;
}

void Open(ConnectionBalance* balance, int n) {
  for (int i = 0; i < n; ++i) balance->Opened();
}

TEST(ConnectionBalanceTest, WithoutAMasterNothingIsShed) {
  ConnectionBalance balance(nullptr);
  Open(&balance, 50);
  EXPECT_EQ(balance.Quota(), 0);
  EXPECT_EQ(balance.Observe(kT0), 50);
  EXPECT_EQ(balance.Observe(kT0 + 10 * kAfter), 50);
  Connection conn;
  EXPECT_FALSE(balance.ShedForBalance(Served(&conn)));
  EXPECT_FALSE(conn.shed);
}

TEST(ConnectionBalanceTest, AZeroQuotaMeansNone) {
  std::atomic<uint32_t> quota{0};
  ConnectionBalance balance(&quota);
  Open(&balance, 50);
  balance.Observe(kT0);
  balance.Observe(kT0 + 10 * kAfter);
  Connection conn;
  EXPECT_FALSE(balance.ShedForBalance(Served(&conn)));
}

TEST(ConnectionBalanceTest, TheQuotaWordIsBounded) {
  std::atomic<uint32_t> quota{0xffffffffu};
  ConnectionBalance balance(&quota);
  EXPECT_EQ(balance.Quota(), 1 << 30);
  quota = 7;
  EXPECT_EQ(balance.Quota(), 7);
}

TEST(ConnectionBalanceTest, OnlyAnExcessThatLastsSheds) {
  std::atomic<uint32_t> quota{2};
  ConnectionBalance balance(&quota);
  Open(&balance, 4);
  Connection conn;
  Served(&conn);
  balance.Observe(kT0);
  EXPECT_FALSE(balance.ShedForBalance(&conn));
  balance.Observe(kT0 + kAfter - 1);
  EXPECT_FALSE(balance.ShedForBalance(&conn));
  balance.Observe(kT0 + kAfter);
  EXPECT_TRUE(balance.ShedForBalance(&conn));
  EXPECT_TRUE(conn.shed);
}

TEST(ConnectionBalanceTest, ADipUnderTheQuotaRestartsTheWait) {
  std::atomic<uint32_t> quota{2};
  ConnectionBalance balance(&quota);
  Open(&balance, 4);
  balance.Observe(kT0);
  quota = 10;  // the master raised it
  balance.Observe(kT0 + kAfter / 2);
  quota = 2;
  balance.Observe(kT0 + kAfter);
  Connection conn;
  EXPECT_FALSE(balance.ShedForBalance(Served(&conn)));
  balance.Observe(kT0 + kAfter + kAfter);
  EXPECT_TRUE(balance.ShedForBalance(&conn));
}

TEST(ConnectionBalanceTest, AFirstRequestIsNeverShed) {
  std::atomic<uint32_t> quota{1};
  ConnectionBalance balance(&quota);
  Open(&balance, 5);
  balance.Observe(kT0);
  balance.Observe(kT0 + kAfter);
  Connection fresh;  // requests == 0: the kernel just chose this worker
  EXPECT_FALSE(balance.ShedForBalance(&fresh));
  EXPECT_FALSE(fresh.shed);
}

TEST(ConnectionBalanceTest, TheSurplusIsShedOnceAndClosesReleaseIt) {
  std::atomic<uint32_t> quota{2};
  ConnectionBalance balance(&quota);
  Open(&balance, 4);
  balance.Observe(kT0);
  balance.Observe(kT0 + kAfter);
  Connection a, b, c;
  EXPECT_TRUE(balance.ShedForBalance(Served(&a)));
  EXPECT_FALSE(balance.ShedForBalance(&a));  // already marked
  EXPECT_TRUE(balance.ShedForBalance(Served(&b)));
  // 4 open, 2 of them closing: the surplus is covered.
  EXPECT_FALSE(balance.ShedForBalance(Served(&c)));
  balance.Closed(&a);
  EXPECT_FALSE(a.shed);
  EXPECT_EQ(balance.open(), 3);
  EXPECT_FALSE(balance.ShedForBalance(&c));  // 3 open, 1 closing
  balance.Closed(&b);
  balance.Closed(&c);
  EXPECT_EQ(balance.open(), 1);
  // A new excess: both marks were released, so one more is shed again.
  Open(&balance, 2);
  Connection d;
  EXPECT_TRUE(balance.ShedForBalance(Served(&d)));
}

TEST(ConnectionBalanceTest, BackWithinTheQuotaStopsShedding) {
  std::atomic<uint32_t> quota{2};
  ConnectionBalance balance(&quota);
  Open(&balance, 4);
  balance.Observe(kT0);
  balance.Observe(kT0 + kAfter);
  Connection a, b;
  balance.Closed(Served(&a));
  balance.Closed(Served(&b));
  EXPECT_EQ(balance.Observe(kT0 + 2 * kAfter), 2);
  Open(&balance, 2);  // above again, but not for long yet
  Connection c;
  EXPECT_FALSE(balance.ShedForBalance(Served(&c)));
}

}  // namespace
}  // namespace wsgid
