#include "daemon/load_sampler.h"

#include <algorithm>
#include <utility>

#include "common/scoreboard.h"

namespace wsgid {

std::optional<ScalerInputs> LoadSampler::Sample(
    int64_t now_ns, const std::vector<SampledWorker>& workers, int desired,
    int threads, LoadReader* reader) {
  int64_t interval = now_ns - last_ns_;
  bool first = last_ns_ == 0;
  last_ns_ = now_ns;
  Totals t;
  Readings now;
  for (const SampledWorker& w : workers)
    AddWorker(w, reader->ReadWorker(w.id, w.pid), now_ns, interval, &t, &now);
  before_ = std::move(now);
  if (first || t.thread_ns == 0) return std::nullopt;

  const double span = static_cast<double>(interval);
  ScalerInputs in;
  in.now_ns = now_ns;
  in.workers = desired;
  in.threads = threads;
  in.busy_ratio = t.busy_ns / t.thread_ns;
  in.busy_threads = t.busy_ns / span;
  in.cpu_demand = t.measured_workers > 0
                      ? t.cpu_demand_s * 1e9 / (span * t.measured_workers)
                      : 0;
  in.memory_bytes = t.memory;
  in.waiting = t.waiting_ns / span;
  // A worker's main thread is in rt_sigtimedwait (idle) unless it is expiring
  // connections; one computing thread more or less does not move the share.
  if (t.working_threads > 0)
    in.io_share = static_cast<double>(t.io_wait_threads) / t.working_threads;
  in.queue = reader->ListenQueue();
  return in;
}

void LoadSampler::Reset() {
  last_ns_ = 0;
  before_ = Readings();
}

void LoadSampler::AddWorker(const SampledWorker& w, const WorkerReading& r,
                            int64_t now_ns, int64_t interval, Totals* totals,
                            Readings* now) const {
  now->waiting[w.id] = r.waiting_ns;
  if (auto before = before_.waiting.find(w.id); before != before_.waiting.end())
    totals->waiting_ns += static_cast<double>(
        std::clamp<int64_t>(r.waiting_ns - before->second, 0,
                            interval * kMaxThreadsPerWorker * 16));
  AddThreads(w.id, r, now_ns, interval, totals, now);
  AddCpuDemand(w.pid, r, totals, now);
  totals->memory += r.pss_bytes;
  const ThreadStates& states = r.thread_states;
  totals->io_wait_threads += states.io_wait;
  totals->working_threads +=
      states.io_wait + states.lock_wait + states.computing;
}

void LoadSampler::AddThreads(int id, const WorkerReading& r, int64_t now_ns,
                             int64_t interval, Totals* totals,
                             Readings* now) const {
  // Busy time counts a request still running up to now, so the differences
  // between samples are exactly the busy time in between.
  size_t threads =
      std::min(r.threads.size(), static_cast<size_t>(kMaxThreadsPerWorker));
  for (size_t t = 0; t < threads; ++t) {
    const ThreadReading& thread = r.threads[t];
    int64_t busy = thread.busy_ns;
    if (thread.busy)
      busy += std::max<int64_t>(0, now_ns - thread.request_start_ns);
    int64_t key = static_cast<int64_t>(id) << 16 | static_cast<int64_t>(t);
    now->busy[key] = busy;
    if (auto before = before_.busy.find(key); before != before_.busy.end()) {
      totals->busy_ns += static_cast<double>(
          std::clamp<int64_t>(busy - before->second, 0, interval));
      totals->thread_ns += static_cast<double>(interval);
    }
  }
}

void LoadSampler::AddCpuDemand(pid_t pid, const WorkerReading& r,
                               Totals* totals, Readings* now) const {
  // A thread new since the last sample (the pool grew) spent all its demand in
  // between; a new worker's do not count yet: that is its start-up. A worker
  // was seen if its main thread (thread id = pid) was.
  bool seen = before_.cpu.count(pid) != 0;
  totals->measured_workers += seen;
  for (const auto& [tid, demand] : r.cpu_demand_by_thread) {
    now->cpu[tid] = demand;
    if (auto before = before_.cpu.find(tid); before != before_.cpu.end())
      totals->cpu_demand_s += std::max(0.0, demand - before->second);
    else if (seen)
      totals->cpu_demand_s += demand;
  }
}

}  // namespace wsgid
