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

ScalerMode::Reading Scaler::Read(const ScalerInputs& in) const {
  bool waiting = in.queue > 0 || in.waiting >= kWaiting;
  if (in.busy_ratio >= kBusyRatio || waiting)
    return DemandWhileBusy(in) >= kCpuBound ? ScalerMode::Reading::kSaturatedCpu
                                            : ScalerMode::Reading::kSaturatedIo;
  if (in.busy_ratio < kIdleRatio) return ScalerMode::Reading::kUnderused;
  return ScalerMode::Reading::kInBand;
}

std::optional<ScalerDecision> Scaler::Decide(const ScalerInputs& in) {
  mode_.Observe(Read(in), in.now_ns);
  switch (mode_.load()) {
    case ScalerMode::Load::kSteady:
      return std::nullopt;
    case ScalerMode::Load::kUnderused:
      return DecideUnderused(in);
    case ScalerMode::Load::kConfirmingCpu:
      return DecideCpuBound(in, Saturated(in, /*cpu_bound=*/true));
    case ScalerMode::Load::kConfirmingIo:
      return DecideIoBound(in, Saturated(in, /*cpu_bound=*/false));
  }
  return std::nullopt;
}

Scaler::Saturation Scaler::Saturated(const ScalerInputs& in,
                                     bool cpu_bound) const {
  const ScalerLimits& l = limits_;
  Saturation s;
  s.waiting = in.queue > 0 || in.waiting >= kWaiting;
  // Workers the memory budget holds, at the current size of each.
  s.memory_cap = l.max_workers;
  if (l.memory_budget_bytes > 0 && in.workers > 0 && in.memory_bytes > 0)
    s.memory_cap = static_cast<int>(std::min<int64_t>(
        l.max_workers, l.memory_budget_bytes /
                           std::max<int64_t>(1, in.memory_bytes / in.workers)));
  s.memory_room = in.workers < s.memory_cap;
  s.worker_cap = std::min(l.max_workers, std::max(l.min_workers, l.cores));
  s.why = (cpu_bound ? "saturated and CPU-bound: "
                     : "saturated and waiting on I/O: ") +
          Describe(in);
  // Little's law: the requests in flight (busy threads), those waiting in
  // the workers and those in the kernel's queue are the concurrency the load
  // needs, with a quarter to spare. Requests wait in a worker only while its
  // threads are busy, so that mean is taken over the busy part of the tick,
  // as the CPU demand is: a load that began mid-tick is not diluted.
  s.needed = (in.busy_threads +
              in.waiting / std::max(in.busy_ratio, kMinBusyForDemand) +
              static_cast<double>(in.queue)) *
             1.25;
  return s;
}

ScalerDecision Scaler::Up(const ScalerInputs& in, const Saturation& s,
                          int workers, int threads) {
  if (workers > in.workers) mode_.OnWorkersAdded(in.now_ns);
  return ScalerDecision{ScalerDecision::Direction::kUp,
                        workers != in.workers ? ScalerDecision::Kind::kWorkers
                                              : ScalerDecision::Kind::kThreads,
                        workers, threads, s.why};
}

ScalerDecision Scaler::GrowThreads(const ScalerInputs& in, const Saturation& s,
                                   int worker_limit) {
  const ScalerLimits& l = limits_;
  // Threads trimmed and then confirmed needed: the trim was wrong, and is not
  // tried again until this load is over (the pool is underused).
  mode_.OnThreadsGrown();
  int threads = std::min(
      l.max_threads,
      std::max(
          {in.threads + 1, in.threads * 2,
           static_cast<int>(std::ceil(s.needed / std::max(1, in.workers)))}));
  int workers = in.workers;
  if (threads >= l.max_threads)
    workers = std::max(
        in.workers,
        std::min(worker_limit,
                 static_cast<int>(std::ceil(s.needed / l.max_threads))));
  return Up(in, s, workers, threads);
}

std::optional<ScalerDecision> Scaler::DecideCpuBound(const ScalerInputs& in,
                                                     const Saturation& s) {
  // Threads do not help a GIL-bound app: more processes, up to the cores.
  if (in.workers < s.worker_cap && s.memory_room)
    return Up(in, s, in.workers + 1, in.threads);
  // At the cores, requests that wait on I/O still need threads (a mix of
  // computing and slow I/O), though the CPU is spoken for. Such a reading
  // also restarts the count towards a trim.
  bool waits_on_io = in.io_share >= kIoShare;
  if (waits_on_io) mode_.RestartConfirmation();
  if (waits_on_io && s.waiting && in.threads < limits_.max_threads)
    return GrowThreads(in, s, in.workers);
  return TrimThreads(in, s);
}

std::optional<ScalerDecision> Scaler::TrimThreads(const ScalerInputs& in,
                                                  const Saturation& s) {
  // A pile of threads (left by an I/O-bound phase) that compute or wait for
  // the GIL only adds GIL hand-offs. Trimming reverses earlier growth, and an
  // I/O-bound load with many threads can read CPU-bound on a crowded machine
  // (each wake-up waits for a core), so the reading must hold for
  // kConfirmTicks first, and each trim halves the threads (down to
  // kCpuBoundThreads) and waits for a new confirmation: a mix whose I/O part
  // still needs threads shows it before they are all gone.
  int floor_threads = std::max(limits_.min_threads, kCpuBoundThreads);
  int fewer = std::max(floor_threads, in.threads / 2);
  if (in.threads <= floor_threads || mode_.streak() < kConfirmTicks ||
      mode_.trim() == ScalerMode::Trim::kRefuted)
    return std::nullopt;
  mode_.OnThreadsTrimmed();
  return ScalerDecision{ScalerDecision::Direction::kDown,
                        ScalerDecision::Kind::kThreads, in.workers, fewer,
                        s.why};
}

std::optional<ScalerDecision> Scaler::DecideIoBound(const ScalerInputs& in,
                                                    const Saturation& s) {
  // I/O-bound: threads are cheap, then processes. Growing back what a
  // CPU-bound reading trimmed waits for the reading to hold, so the two never
  // alternate tick by tick.
  bool regrow_confirmed = mode_.trim() != ScalerMode::Trim::kTrimmed ||
                          mode_.streak() >= kConfirmTicks;
  if (in.threads < limits_.max_threads && regrow_confirmed)
    return GrowThreads(in, s, s.memory_cap);
  if (in.threads < limits_.max_threads || !s.memory_room) return std::nullopt;
  return AddWorkersAtMaxThreads(in, s);
}

std::optional<ScalerDecision> Scaler::AddWorkersAtMaxThreads(
    const ScalerInputs& in, const Saturation& s) {
  // The workers Little's law asks for, or one more while requests wait for
  // want of a thread (once workers just added have had time to take their
  // share); busy threads alone that it says suffice are left be. At thousands
  // of requests a second a request is seen waiting for the moment a free
  // thread takes to wake: fewer waiting than idle threads is that, not a
  // shortage.
  int workers = static_cast<int>(std::ceil(s.needed / limits_.max_threads));
  double idle_threads =
      in.busy_ratio > 0 ? in.busy_threads / in.busy_ratio - in.busy_threads : 0;
  bool short_of_threads = in.queue > 0 || in.waiting - idle_threads >= kWaiting;
  bool new_workers_settling =
      mode_.workers_added_ns() >= 0 &&
      in.now_ns - mode_.workers_added_ns() < limits_.new_worker_grace_ns;
  if (workers <= in.workers && (!short_of_threads || new_workers_settling))
    return std::nullopt;
  return Up(in, s, std::min(s.memory_cap, std::max(in.workers + 1, workers)),
            in.threads);
}

std::optional<ScalerDecision> Scaler::DecideUnderused(const ScalerInputs& in) {
  const ScalerLimits& l = limits_;
  if (in.now_ns - mode_.underused_since_ns() < l.scale_down_window_ns)
    return std::nullopt;
  // One step, then a whole new window before the next.
  mode_.RestartUnderuseWindow(in.now_ns);
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
