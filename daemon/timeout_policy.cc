#include "daemon/timeout_policy.h"

#include <cstdio>

namespace wsgid {
namespace {

std::string Seconds(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string Describe(const ThreadActivity& a, int index, int64_t now_ns) {
  return "thread " + std::to_string(index) + ": " +
         (a.method.empty() ? "?" : a.method) + " " +
         (a.path.empty() ? "?" : a.path) + " for " +
         Seconds(now_ns - a.request_start_ns);
}

}  // namespace

FreezeVerdict JudgeWorker(const WorkerObservation& observation, int64_t now_ns,
                          const TimeoutPolicy& policy) {
  FreezeVerdict verdict;
  int64_t heartbeat_age = now_ns - observation.heartbeat_ns;
  if (heartbeat_age > policy.timeout_ns) {
    verdict.kind = FreezeVerdict::Kind::kHeartbeat;
    verdict.detail = "no heartbeat for " + Seconds(heartbeat_age);
    return verdict;
  }
  int stuck = 0;
  std::string stuck_detail;
  for (size_t i = 0; i < observation.threads.size(); ++i) {
    const ThreadActivity& a = observation.threads[i];
    if (!a.busy) continue;
    int64_t age = now_ns - a.request_start_ns;
    if (policy.request_timeout_ns > 0 && age > policy.request_timeout_ns) {
      verdict.kind = FreezeVerdict::Kind::kRequestTimeout;
      verdict.detail =
          "request timeout: " + Describe(a, static_cast<int>(i), now_ns);
      return verdict;
    }
    if (age > policy.timeout_ns) {
      ++stuck;
      if (!stuck_detail.empty()) stuck_detail += "; ";
      stuck_detail += Describe(a, static_cast<int>(i), now_ns);
    }
  }
  if (!observation.threads.empty() &&
      stuck == static_cast<int>(observation.threads.size())) {
    verdict.kind = FreezeVerdict::Kind::kAllThreadsStuck;
    verdict.detail =
        "every thread inside one request for longer than the timeout: " +
        stuck_detail;
  }
  return verdict;
}

}  // namespace wsgid
