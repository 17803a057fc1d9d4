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
  char io_share[8] = "?";
  if (in.io_share >= 0)
    std::snprintf(io_share, sizeof io_share, "%.0f%%", in.io_share * 100);
  char buf[240];
  std::snprintf(
      buf, sizeof buf,
      "busy %.0f%%, queue %lld, waiting %.1f, cpu demand %.2f core/worker "
      "(%.2f while busy), busy threads on I/O %s, %d worker(s) x %d "
      "thread(s)",
      in.busy_ratio * 100, static_cast<long long>(in.queue), in.waiting,
      in.cpu_demand, DemandWhileBusy(in), io_share, in.workers, in.threads);
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
    // Little's law: the requests in flight (busy threads), those waiting in
    // the workers and those in the kernel's queue are the concurrency the load
    // needs, with a quarter to spare. Requests wait in a worker only while its
    // threads are busy, so that mean is taken over the busy part of the tick,
    // as the CPU demand is: a load that began mid-tick is not diluted.
    double needed = (in.busy_threads +
                     in.waiting / std::max(in.busy_ratio, kMinBusyForDemand) +
                     static_cast<double>(in.queue)) *
                    1.25;
    auto up = [&](int workers, int threads) {
      if (workers > in.workers) workers_added_ns_ = in.now_ns;
      return ScalerDecision{ScalerDecision::Direction::kUp,
                            workers != in.workers
                                ? ScalerDecision::Kind::kWorkers
                                : ScalerDecision::Kind::kThreads,
                            workers, threads, why};
    };
    // Threads doubled, or straight to what is needed; at max_threads, also the
    // workers the rest needs, up to `worker_limit`.
    auto grow_threads = [&](int worker_limit) {
      // Threads trimmed and then confirmed needed: the trim was wrong, and is
      // not tried again until this load is over (the pool is underused).
      if (trimmed_for_cpu_) trim_refuted_ = true;
      trimmed_for_cpu_ = false;
      int threads = std::min(
          l.max_threads,
          std::max(
              {in.threads + 1, in.threads * 2,
               static_cast<int>(std::ceil(needed / std::max(1, in.workers)))}));
      int workers = in.workers;
      if (threads >= l.max_threads)
        workers = std::max(
            in.workers,
            std::min(worker_limit,
                     static_cast<int>(std::ceil(needed / l.max_threads))));
      return up(workers, threads);
    };
    // Busy threads seen blocked on I/O: more threads would serve more.
    bool waits_on_io = in.io_share >= kIoShare;
    if (cpu_bound) {
      // Threads do not help a GIL-bound app: more processes, up to the cores.
      if (in.workers < worker_cap && memory_room)
        return up(in.workers + 1, in.threads);
      // At the cores, requests that wait on I/O still need threads (a mix of
      // computing and slow I/O), though the CPU is spoken for. Such a reading
      // also restarts the count towards a trim.
      if (waits_on_io) cpu_streak_ = 0;
      if (waits_on_io && waiting && in.threads < l.max_threads)
        return grow_threads(in.workers);
      // A pile of threads (left by an I/O-bound phase) that compute or wait
      // for the GIL only adds GIL hand-offs. Trimming reverses earlier growth,
      // and an I/O-bound load with many threads can read CPU-bound on a
      // crowded machine (each wake-up waits for a core), so the reading must
      // hold for kConfirmTicks first, and each trim halves the threads (down
      // to kCpuBoundThreads) and waits for a new confirmation: a mix whose
      // I/O part still needs threads shows it before they are all gone.
      int floor_threads = std::max(l.min_threads, kCpuBoundThreads);
      int fewer = std::max(floor_threads, in.threads / 2);
      if (in.threads > floor_threads && cpu_streak_ >= kConfirmTicks &&
          !trim_refuted_) {
        trimmed_for_cpu_ = true;
        cpu_streak_ = 0;
        return ScalerDecision{ScalerDecision::Direction::kDown,
                              ScalerDecision::Kind::kThreads, in.workers, fewer,
                              why};
      }
      return std::nullopt;
    }
    // I/O-bound: threads are cheap, then processes. Growing back what a
    // CPU-bound reading trimmed waits for the reading to hold, so the two
    // never alternate tick by tick.
    bool regrow_confirmed = !trimmed_for_cpu_ || io_streak_ >= kConfirmTicks;
    if (in.threads < l.max_threads && regrow_confirmed)
      return grow_threads(memory_cap);
    if (in.threads < l.max_threads || !memory_room) return std::nullopt;
    // At max threads: the workers Little's law asks for, or one more while
    // requests wait for want of a thread (once workers just added have had
    // time to take their share); busy threads alone that it says suffice are
    // left be. At thousands of requests a second a request is seen waiting
    // for the moment a free thread takes to wake: fewer waiting than idle
    // threads is that, not a shortage.
    int workers = static_cast<int>(std::ceil(needed / l.max_threads));
    double idle_threads =
        in.busy_ratio > 0 ? in.busy_threads / in.busy_ratio - in.busy_threads
                          : 0;
    bool short_of_threads =
        in.queue > 0 || in.waiting - idle_threads >= kWaiting;
    bool new_workers_settling =
        workers_added_ns_ >= 0 &&
        in.now_ns - workers_added_ns_ < kNewWorkerGraceNs;
    if (workers <= in.workers && (!short_of_threads || new_workers_settling))
      return std::nullopt;
    return up(std::min(memory_cap, std::max(in.workers + 1, workers)),
              in.threads);
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
