// LoadSampler: turns what the workers report (the scoreboard) and what the
// kernel says about them (/proc) into the scaler's inputs for one tick,
// ScalerInputs, over the interval since the previous sample.
//
// Every figure the scoreboard and /proc give is a running total (busy time per
// thread, time requests waited, CPU demand per thread), so the sampler keeps
// the previous readings and takes differences, bounded by the interval (the
// scoreboard is the worker's word only). Only ready workers are sampled; a
// worker or thread seen for the first time only gives its starting values.
//
// The readings come through LoadReader, so the sampler is unit-tested on
// recorded inputs; the daemon's reader is SystemLoadReader
// (system_load_reader.h). Thread-compatible (the supervisor loop owns it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "daemon/proc_stats.h"
#include "daemon/scaler.h"

namespace wsgid {

// One app thread's slot, as read.
struct ThreadReading {
  int64_t busy_ns = 0;           // accumulated over its finished requests
  bool busy = false;             // inside a request now...
  int64_t request_start_ns = 0;  // ...since then
};

// One ready worker, as read.
struct WorkerReading {
  int64_t waiting_ns = 0;  // requests waiting for a thread, integrated
  std::vector<ThreadReading> threads;
  std::map<pid_t, double> cpu_demand_by_thread;  // seconds, by thread id
  int64_t pss_bytes = 0;
  ThreadStates thread_states;
};

// Where the readings come from.
class LoadReader {
 public:
  virtual ~LoadReader() = default;
  // The worker in scoreboard slot `id`, process `pid`.
  virtual WorkerReading ReadWorker(int id, pid_t pid) = 0;
  // Connections waiting in the listeners' accept queues now.
  virtual int64_t ListenQueue() = 0;
};

// A ready worker to sample.
struct SampledWorker {
  int id = 0;
  pid_t pid = 0;
};

class LoadSampler {
 public:
  // Reads `workers` at `now_ns`. Returns the inputs over the interval since the
  // previous call, or none on the first call (or the first after Reset) and
  // when no thread was seen both times. `desired` and `threads` are the current
  // counts, passed through. REQUIRES: now_ns above the previous call's.
  std::optional<ScalerInputs> Sample(int64_t now_ns,
                                     const std::vector<SampledWorker>& workers,
                                     int desired, int threads,
                                     LoadReader* reader);
  // Forgets the previous readings (autoscaling was turned off).
  void Reset();
  // The previous call's time; 0 if none.
  int64_t last_sample_ns() const { return last_ns_; }

 private:
  // The sums over one sample's workers.
  struct Totals {
    double busy_ns = 0, thread_ns = 0, cpu_demand_s = 0, waiting_ns = 0;
    int measured_workers = 0;  // those whose CPU demand counts
    int working_threads = 0, io_wait_threads = 0;
    int64_t memory = 0;
  };
  // The readings kept for the next sample.
  struct Readings {
    std::map<int64_t, int64_t> busy;  // (id << 16 | thread) -> busy ns
    std::map<pid_t, double> cpu;      // worker thread -> CPU demand, s
    std::map<int, int64_t> waiting;   // worker id -> waiting_ns
  };

  void AddWorker(const SampledWorker& w, const WorkerReading& r, int64_t now_ns,
                 int64_t interval, Totals* totals, Readings* now) const;
  void AddThreads(int id, const WorkerReading& r, int64_t now_ns,
                  int64_t interval, Totals* totals, Readings* now) const;
  void AddCpuDemand(pid_t pid, const WorkerReading& r, Totals* totals,
                    Readings* now) const;

  int64_t last_ns_ = 0;
  Readings before_;
};

}  // namespace wsgid
