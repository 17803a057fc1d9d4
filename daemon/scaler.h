// Scaler: decides worker and thread counts from measured load, one tick at a
// time.
//
// A pure function of (inputs, its own state, the clock carried by the inputs),
// so it is unit-tested with recorded and synthetic traces, no sleeps. Policy:
// - up fast: on a queue or sustained busyness, in one step to what the
//   requests in flight and waiting need (Little's law), else doubling;
// - processes versus threads: busy workers that burn CPU (GIL-bound) get more
// processes,
//   up to the cores and the memory budget; busy workers that mostly wait
//   (I/O-bound) get more threads, which cost little memory;
// - down slowly: only after the pool has been underused for a whole
// stabilisation window,
//   one step at a time (workers first: they cost memory; then threads), and
//   never below the minimums;
// - hysteresis: the up and down thresholds are far apart, so it never flaps.
// What it remembers between ticks is its mode (daemon/scaler_mode.h); Decide
// moves the mode with the tick's reading, then decides by mode.
// Thread-compatible: the supervisor's loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "daemon/scaler_mode.h"

namespace wsgid {

struct ScalerLimits {
  int min_workers = 1;
  int max_workers = 32;
  int min_threads = 1;
  int max_threads = 1;
  int cores = 1;                    // processes beyond this do not add CPU
  int64_t memory_budget_bytes = 0;  // total PSS of the workers; 0: none
  int64_t scale_down_window_ns = 30'000'000'000;
  // After workers were added, the time they get to take their share of the
  // connections before requests still waiting elsewhere count as a reason to
  // add more than Little's law asks: a spawned worker imports the app (2 s);
  // one forked by a --preload zygote is ready in milliseconds (issue 16).
  int64_t new_worker_grace_ns = 2'000'000'000;
  static constexpr int64_t kForkedWorkerGraceNs = 300'000'000;
};

// What one tick measured, over the interval since the previous tick.
struct ScalerInputs {
  int64_t now_ns = 0;
  int workers = 1;        // the current desired count
  int threads = 1;        // the current threads per worker
  double busy_ratio = 0;  // busy thread-time / running thread-time (0..1)
  // Busy thread-time / the interval: the requests in flight on average. Not
  // busy_ratio x workers x threads: the threads of a worker added during the
  // interval are not measured yet.
  double busy_threads = 0;
  int64_t queue = 0;  // connections waiting in the accept queues
  // Requests the workers have accepted that wait for a free thread (bytes
  // unread on a connection no thread holds), mean over the interval: the part
  // of the queue the kernel cannot see.
  double waiting = 0;
  // CPU demand per worker process, in cores: time on a CPU plus time waiting
  // for one. A GIL-bound worker reads near 1 even on a crowded machine, where
  // its CPU time alone would look like a worker waiting on I/O.
  double cpu_demand = 0;
  int64_t memory_bytes = 0;  // total PSS of the workers now
  // Of the workers' threads busy in a request at the tick, the share blocked
  // on I/O (sleeping, polling, reading), as opposed to computing or waiting for
  // a lock such as the GIL; -1 when it could not be sampled. More threads serve
  // more of such requests even when the process is CPU-bound.
  double io_share = -1;
};

struct ScalerDecision {
  enum class Direction { kUp, kDown };
  enum class Kind { kWorkers, kThreads };
  Direction direction;
  Kind kind;  // kWorkers when the worker count changes (threads may too)
  int workers;
  int threads;
  std::string reason;  // with the inputs, for the log and the API
};

class Scaler {
 public:
  explicit Scaler(ScalerLimits limits) : limits_(limits) {}

  // One tick: a change to make, or none.
  std::optional<ScalerDecision> Decide(const ScalerInputs& in);
  const ScalerLimits& limits() const { return limits_; }
  void set_limits(const ScalerLimits& limits) { limits_ = limits; }
  // What it remembers from the ticks so far (for tests and diagnostics).
  const ScalerMode& mode() const { return mode_; }

  // Busy above this (or any queue, or kWaiting requests waiting in the
  // workers) is saturation; below kIdleRatio with nothing waiting, for a whole
  // window, is underuse. Workers demanding more than kCpuBound of a core each
  // while busy (cpu_demand / busy_ratio) are GIL/CPU-bound.
  static constexpr double kBusyRatio = 0.75;
  static constexpr double kIdleRatio = 0.3;
  static constexpr double kWaiting = 0.5;
  static constexpr double kCpuBound = 0.6;
  // CPU-bound workers gain nothing from more threads than this.
  static constexpr int kCpuBoundThreads = 4;
  // Ticks a CPU-bound (or I/O-bound) reading must hold before the thread count
  // is turned around.
  static constexpr int kConfirmTicks = 3;
  // The busy ratio that CPU demand is divided by is at least this, so an
  // almost idle tick cannot read as a huge demand.
  static constexpr double kMinBusyForDemand = 0.1;
  // CPU-bound workers whose busy threads wait on I/O at least this much still
  // get threads for the requests waiting (a mix of slow I/O and computing).
  static constexpr double kIoShare = 0.3;
  // The default of ScalerLimits::new_worker_grace_ns.
  static constexpr int64_t kNewWorkerGraceNs = 2'000'000'000;

 private:
  // What a saturated tick needs, whatever the kind of load.
  struct Saturation {
    bool waiting = false;  // requests seen waiting (queue or in workers)
    int memory_cap = 0;    // workers the memory budget holds
    bool memory_room = false;
    int worker_cap = 0;  // CPU-bound: processes beyond the cores are moot
    double needed = 0;   // concurrency the load needs (Little's law)
    std::string why;     // the decision's reason
  };
  ScalerMode::Reading Read(const ScalerInputs& in) const;
  Saturation Saturated(const ScalerInputs& in, bool cpu_bound) const;

  // Decide, by mode.
  std::optional<ScalerDecision> DecideCpuBound(const ScalerInputs& in,
                                               const Saturation& s);
  std::optional<ScalerDecision> DecideIoBound(const ScalerInputs& in,
                                              const Saturation& s);
  std::optional<ScalerDecision> DecideUnderused(const ScalerInputs& in);

  // The steps those take.
  ScalerDecision Up(const ScalerInputs& in, const Saturation& s, int workers,
                    int threads);
  // Threads doubled, or straight to what is needed; at max_threads, also the
  // workers the rest needs, up to `worker_limit`.
  ScalerDecision GrowThreads(const ScalerInputs& in, const Saturation& s,
                             int worker_limit);
  std::optional<ScalerDecision> TrimThreads(const ScalerInputs& in,
                                            const Saturation& s);
  std::optional<ScalerDecision> AddWorkersAtMaxThreads(const ScalerInputs& in,
                                                       const Saturation& s);

  ScalerLimits limits_;
  ScalerMode mode_;
};

}  // namespace wsgid
