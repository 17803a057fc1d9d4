#include "daemon/scaler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace wsgid {
namespace {

// CPU demand per worker while busy: a tick in which the load began part-way (a
// queue, but a low busy ratio) would otherwise read a CPU-bound load diluted.
double DemandWhileBusy(const ScalerInputs& in) {
  return in.cpu_demand / std::max(in.busy_ratio, Scaler::kMinBusyForDemand);
}

std::string Describe(const ScalerInputs& in) {
  char buf[200];
  std::snprintf(
      buf, sizeof buf,
      "busy %.0f%%, queue %lld, waiting %.1f, cpu demand %.2f core/worker "
      "(%.2f while busy), %d worker(s) x %d thread(s)",
      in.busy_ratio * 100, static_cast<long long>(in.queue), in.waiting,
      in.cpu_demand, DemandWhileBusy(in), in.workers, in.threads);
  return buf;
}

}  // namespace

std::optional<ScalerDecision> Scaler::Decide(const ScalerInputs& in) {
  const ScalerLimits& l = limits_;
  bool waiting = in.queue > 0 || in.waiting >= kWaiting;
  bool saturated = in.busy_ratio >= kBusyRatio || waiting;
  bool underused = in.busy_ratio < kIdleRatio && !waiting;
  if (!underused) underused_since_ns_ = -1;

  if (!saturated) cpu_streak_ = io_streak_ = 0;
  if (underused) trim_refuted_ = false;
  if (saturated) {
    bool cpu_bound = DemandWhileBusy(in) >= kCpuBound;
    if (cpu_bound) {
      ++cpu_streak_;
      io_streak_ = 0;
    } else {
      ++io_streak_;
      cpu_streak_ = 0;
    }
    // Workers the memory budget holds, at the current size of each.
    int memory_cap = l.max_workers;
    if (l.memory_budget_bytes > 0 && in.workers > 0 && in.memory_bytes > 0)
      memory_cap = static_cast<int>(std::min<int64_t>(
          l.max_workers,
          l.memory_budget_bytes /
              std::max<int64_t>(1, in.memory_bytes / in.workers)));
    bool memory_room = in.workers < memory_cap;
    int worker_cap = std::min(l.max_workers, std::max(l.min_workers, l.cores));
    std::string why = (cpu_bound ? "saturated and CPU-bound: "
                                 : "saturated and waiting on I/O: ") +
                      Describe(in);
    if (cpu_bound) {
      // Threads do not help a GIL-bound app: more processes, up to the cores.
      if (in.workers < worker_cap && memory_room)
        return ScalerDecision{ScalerDecision::Direction::kUp,
                              ScalerDecision::Kind::kWorkers, in.workers + 1,
                              in.threads, why};
      // At the cores, a pile of threads (left by an I/O-bound phase) only adds
      // GIL hand-offs. Trimming reverses earlier growth, and an I/O-bound load
      // with many threads can read CPU-bound on a crowded machine (each wake-up
      // waits for a core), so the reading must hold for kConfirmTicks first.
      int fewer = std::max(l.min_threads, kCpuBoundThreads);
      if (in.threads > fewer && cpu_streak_ >= kConfirmTicks &&
          !trim_refuted_) {
        trimmed_for_cpu_ = true;
        return ScalerDecision{ScalerDecision::Direction::kDown,
                              ScalerDecision::Kind::kThreads, in.workers, fewer,
                              why};
      }
      return std::nullopt;
    }
    // Little's law: the requests in flight (busy threads) plus those waiting
    // in the workers and in the kernel are the concurrency the load needs; a
    // quarter to spare.
    double needed = (in.busy_ratio * in.workers * in.threads + in.waiting +
                     static_cast<double>(in.queue)) *
                    1.25;
    // I/O-bound: threads are cheap; double them (or straight to what is
    // needed), then add the processes the rest needs. Growing back what a
    // CPU-bound reading trimmed waits for the reading to hold, so the two never
    // alternate tick by tick.
    bool regrow_confirmed = !trimmed_for_cpu_ || io_streak_ >= kConfirmTicks;
    if (in.threads < l.max_threads && regrow_confirmed) {
      // Threads trimmed and then confirmed waiting: the trim was wrong, and is
      // not tried again until this load is over (the pool is underused).
      trim_refuted_ = trimmed_for_cpu_;
      trimmed_for_cpu_ = false;
      int threads = std::min(
          l.max_threads,
          std::max(
              {in.threads + 1, in.threads * 2,
               static_cast<int>(std::ceil(needed / std::max(1, in.workers)))}));
      return ScalerDecision{ScalerDecision::Direction::kUp,
                            ScalerDecision::Kind::kThreads, in.workers, threads,
                            why};
    }
    if (in.threads >= l.max_threads && memory_room) {
      int workers = std::min(
          memory_cap,
          std::max(in.workers + 1,
                   static_cast<int>(std::ceil(needed / l.max_threads))));
      return ScalerDecision{ScalerDecision::Direction::kUp,
                            ScalerDecision::Kind::kWorkers, workers, in.threads,
                            why};
    }
    return std::nullopt;
  }
  if (!underused) return std::nullopt;
  if (underused_since_ns_ < 0) underused_since_ns_ = in.now_ns;
  if (in.now_ns - underused_since_ns_ < l.scale_down_window_ns)
    return std::nullopt;
  // One step, then a whole new window before the next.
  underused_since_ns_ = in.now_ns;
  std::string why = "underused for the whole window: " + Describe(in);
  // A process costs its memory, a thread almost nothing: processes go first.
  // Under 30% busy, one worker fewer leaves the rest under 60% (from 2), below
  // the 75% that would add it back.
  if (in.workers > l.min_workers)
    return ScalerDecision{ScalerDecision::Direction::kDown,
                          ScalerDecision::Kind::kWorkers, in.workers - 1,
                          in.threads, why};
  if (in.threads > l.min_threads)
    return ScalerDecision{ScalerDecision::Direction::kDown,
                          ScalerDecision::Kind::kThreads, in.workers,
                          std::max(l.min_threads, in.threads / 2), why};
  return std::nullopt;
}

}  // namespace wsgid
