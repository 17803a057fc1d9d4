#include "daemon/scaler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace wsgid {
namespace {

std::string Describe(const ScalerInputs& in) {
  char buf[200];
  std::snprintf(
      buf, sizeof buf,
      "busy %.0f%%, queue %lld, cpu demand %.2f core/worker, %d worker(s) x "
      "%d thread(s)",
      in.busy_ratio * 100, static_cast<long long>(in.queue), in.cpu_demand,
      in.workers, in.threads);
  return buf;
}

}  // namespace

std::optional<ScalerDecision> Scaler::Decide(const ScalerInputs& in) {
  const ScalerLimits& l = limits_;
  bool saturated = in.busy_ratio >= kBusyRatio || in.queue > 0;
  bool underused = in.busy_ratio < kIdleRatio && in.queue == 0;
  if (!underused) underused_since_ns_ = -1;

  if (saturated) {
    bool cpu_bound = in.cpu_demand >= kCpuBound;
    int worker_cap = std::min(l.max_workers, std::max(l.min_workers, l.cores));
    bool memory_room = true;
    if (l.memory_budget_bytes > 0 && in.workers > 0)
      memory_room = in.memory_bytes + in.memory_bytes / in.workers <=
                    l.memory_budget_bytes;
    std::string why = (cpu_bound ? "saturated and CPU-bound: "
                                 : "saturated and waiting on I/O: ") +
                      Describe(in);
    if (cpu_bound) {
      // Threads do not help a GIL-bound app: a pile of them (left by an
      // earlier I/O-bound phase, or a first tick that misread the load) only
      // adds GIL hand-offs and is trimmed first, which is immediate; then more
      // processes, up to the cores.
      int fewer = std::max(l.min_threads, kCpuBoundThreads);
      if (in.threads > fewer)
        return ScalerDecision{ScalerDecision::Direction::kDown,
                              ScalerDecision::Kind::kThreads, in.workers, fewer,
                              why};
      if (in.workers < worker_cap && memory_room)
        return ScalerDecision{ScalerDecision::Direction::kUp,
                              ScalerDecision::Kind::kWorkers, in.workers + 1,
                              in.threads, why};
      return std::nullopt;
    }
    // I/O-bound: threads are cheap; double them, then add processes.
    if (in.threads < l.max_threads) {
      // Double, or straight to what the waiting connections need (Little's
      // law: the concurrency in use plus the queue, with a quarter to spare).
      double needed = (in.busy_ratio * in.workers * in.threads +
                       static_cast<double>(in.queue)) *
                      1.25 / std::max(1, in.workers);
      int threads = std::min(l.max_threads,
                             std::max({in.threads + 1, in.threads * 2,
                                       static_cast<int>(std::ceil(needed))}));
      return ScalerDecision{ScalerDecision::Direction::kUp,
                            ScalerDecision::Kind::kThreads, in.workers, threads,
                            why};
    }
    if (in.workers < l.max_workers && memory_room)
      return ScalerDecision{ScalerDecision::Direction::kUp,
                            ScalerDecision::Kind::kWorkers, in.workers + 1,
                            in.threads, why};
    return std::nullopt;
  }
  if (!underused) return std::nullopt;
  if (underused_since_ns_ < 0) underused_since_ns_ = in.now_ns;
  if (in.now_ns - underused_since_ns_ < l.scale_down_window_ns)
    return std::nullopt;
  // One step, then a whole new window before the next.
  underused_since_ns_ = in.now_ns;
  std::string why = "underused for the whole window: " + Describe(in);
  if (in.threads > l.min_threads)
    return ScalerDecision{ScalerDecision::Direction::kDown,
                          ScalerDecision::Kind::kThreads, in.workers,
                          std::max(l.min_threads, in.threads / 2), why};
  if (in.workers > l.min_workers)
    return ScalerDecision{ScalerDecision::Direction::kDown,
                          ScalerDecision::Kind::kWorkers, in.workers - 1,
                          in.threads, why};
  return std::nullopt;
}

}  // namespace wsgid
