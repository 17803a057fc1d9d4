// The freeze verdict: synthetic scoreboard observations against a fixed clock.
#include "daemon/timeout_policy.h"

#include <gtest/gtest.h>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kNow = 1000 * kSec;

ThreadActivity Busy(int64_t started_ns, std::string path = "/x") {
  ThreadActivity a;
  a.busy = true;
  a.request_start_ns = started_ns;
  a.method = "GET";
  a.path = std::move(path);
  return a;
}

ThreadActivity Idle() { return ThreadActivity(); }

TimeoutPolicy Policy(int64_t timeout_s, int64_t request_timeout_s = 0) {
  TimeoutPolicy p;
  p.timeout_ns = timeout_s * kSec;
  p.request_timeout_ns = request_timeout_s * kSec;
  return p;
}

TEST(TimeoutPolicyTest, FreshHeartbeatAndIdleThreadsIsAlive) {
  WorkerObservation o{kNow - kSec / 10, {Idle(), Idle()}};
  EXPECT_FALSE(JudgeWorker(o, kNow, Policy(30)).frozen());
}

TEST(TimeoutPolicyTest, StaleHeartbeatIsFrozen) {
  WorkerObservation o{kNow - 31 * kSec, {Idle()}};
  FreezeVerdict v = JudgeWorker(o, kNow, Policy(30));
  EXPECT_EQ(v.kind, FreezeVerdict::Kind::kHeartbeat);
  EXPECT_NE(v.detail.find("31.0 s"), std::string::npos) << v.detail;
}

TEST(TimeoutPolicyTest, HeartbeatExactlyAtTheTimeoutIsStillAlive) {
  WorkerObservation o{kNow - 30 * kSec, {Idle()}};
  EXPECT_FALSE(JudgeWorker(o, kNow, Policy(30)).frozen());
}

TEST(TimeoutPolicyTest, OneThreadStuckLongerThanTheTimeoutIsFrozen) {
  // Gunicorn's sync semantics: the only thread in one request for too long.
  WorkerObservation o{kNow, {Busy(kNow - 3 * kSec, "/spin")}};
  FreezeVerdict v = JudgeWorker(o, kNow, Policy(2));
  EXPECT_EQ(v.kind, FreezeVerdict::Kind::kAllThreadsStuck);
  EXPECT_NE(v.detail.find("GET /spin"), std::string::npos) << v.detail;
}

TEST(TimeoutPolicyTest, OneStuckThreadAmongFreeOnesIsNotAFreeze) {
  WorkerObservation o{kNow,
                      {Busy(kNow - 100 * kSec), Idle(), Busy(kNow - kSec)}};
  EXPECT_FALSE(JudgeWorker(o, kNow, Policy(30)).frozen());
}

TEST(TimeoutPolicyTest, EveryThreadStuckIsAFreeze) {
  WorkerObservation o{
      kNow, {Busy(kNow - 100 * kSec, "/a"), Busy(kNow - 31 * kSec, "/b")}};
  FreezeVerdict v = JudgeWorker(o, kNow, Policy(30));
  EXPECT_EQ(v.kind, FreezeVerdict::Kind::kAllThreadsStuck);
  EXPECT_NE(v.detail.find("/a"), std::string::npos);
  EXPECT_NE(v.detail.find("/b"), std::string::npos);
}

TEST(TimeoutPolicyTest, RequestTimeoutCatchesOneSlowRequest) {
  WorkerObservation o{kNow, {Idle(), Busy(kNow - 6 * kSec, "/report")}};
  FreezeVerdict v = JudgeWorker(o, kNow, Policy(30, 5));
  EXPECT_EQ(v.kind, FreezeVerdict::Kind::kRequestTimeout);
  EXPECT_NE(v.detail.find("thread 1: GET /report"), std::string::npos)
      << v.detail;
}

TEST(TimeoutPolicyTest, RequestTimeoutOffByDefault) {
  WorkerObservation o{kNow, {Idle(), Busy(kNow - 29 * kSec)}};
  EXPECT_FALSE(JudgeWorker(o, kNow, Policy(30)).frozen());
}

TEST(TimeoutPolicyTest, TraceOfAWorkerThatFreezes) {
  // A recorded shape: busy with short requests, then one request never ends.
  TimeoutPolicy policy = Policy(2);
  int64_t stuck_since = kNow + 5 * kSec;
  for (int64_t t = kNow; t < kNow + 10 * kSec; t += kSec / 10) {
    WorkerObservation o;
    o.heartbeat_ns = t;  // the C++ loop keeps beating while Python spins
    o.threads = {t < stuck_since ? Busy(t - kSec / 100) : Busy(stuck_since)};
    bool expected = t - stuck_since > 2 * kSec;
    EXPECT_EQ(JudgeWorker(o, t, policy).frozen(), expected) << (t - kNow) / 1e9;
  }
}

}  // namespace
}  // namespace wsgid
