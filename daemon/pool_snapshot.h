// PoolSnapshot: what the supervisor loop publishes each turn for the threads
// that answer the ops port and the control API. They never touch the pool
// itself (it belongs to the loop); they read the latest snapshot, and the
// scoreboard, which is lock-free.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/effective_settings.h"
#include "common/scoreboard.h"
#include "common/worker_state.h"

namespace wsgid {

struct PoolSnapshot {
  struct Worker {
    int id = 0;
    pid_t pid = 0;
    int generation = 0;
    WorkerState state = WorkerState::kStarting;
  };
  int64_t loop_turned_ns =
      0;  // CLOCK_MONOTONIC of the loop's latest turn (/livez)
  int64_t started_ns = 0;
  bool stopping = false;  // a graceful stop began (/readyz answers 503)
  int desired = 0;
  int generation = 0;
  int threads = 0;  // app threads per worker
  int max_workers = 0;
  std::vector<Worker> workers;
  std::vector<std::string> listeners;
  uint64_t spawns = 0;
  std::map<std::string, uint64_t> exits;  // by reason
  uint64_t reloads_ok = 0;
  uint64_t reloads_failed = 0;
  // The scaler.
  bool autoscale = false;
  int min_workers = 0, min_threads = 0, max_threads = 0, cores = 0;
  int64_t memory_budget_bytes = 0;
  int autoscale_max_workers = 0;  // the scaler's bound (<= max_workers)
  std::map<std::string, uint64_t> decisions;  // "up/workers" -> count
  std::vector<std::string> recent_decisions;  // newest last, with reasons
  // The running configuration, as GET /v1/config shows it (issue 15).
  std::vector<EffectiveSetting> settings;
  // Error-log records by LogCounter of the master and the hook helpers (the
  // workers' are in the scoreboard's RequestTotals).
  uint64_t master_log_records[kLogCounterCount] = {};
  // --preload (issue 16): the newest generation's zygote, if any.
  struct Preload {
    pid_t pid = 0;  // 0 when not running (unsafe, failed)
    int generation = 0;
    std::string state;
  };
  std::optional<Preload> preload;

  // The workers in `state` now.
  int CountInState(WorkerState state) const {
    int n = 0;
    for (const Worker& w : workers) n += w.state == state;
    return n;
  }
};

// The app threads a worker reports running, bounded to what a slot can hold
// (shared memory is the worker's word only).
inline int WorkerThreads(const WorkerSlot& slot) {
  uint32_t n = slot.threads.load(std::memory_order_relaxed);
  return n > static_cast<uint32_t>(kMaxThreadsPerWorker) ? kMaxThreadsPerWorker
                                                         : static_cast<int>(n);
}

// Seconds since the worker's last heartbeat at `now_ns`, never negative (the
// stamp is the worker's word, and may read ahead of ours).
inline double HeartbeatAgeSeconds(const WorkerSlot& slot, int64_t now_ns) {
  int64_t beat = slot.heartbeat_ns.load(std::memory_order_relaxed);
  return now_ns > beat ? static_cast<double>(now_ns - beat) / 1e9 : 0;
}

// Of those, the threads in a request now.
inline int BusyThreads(const WorkerSlot& slot) {
  int busy = 0;
  for (int t = 0; t < WorkerThreads(slot); ++t)
    busy += slot.thread[t].busy.load(std::memory_order_relaxed) != 0;
  return busy;
}

// Counters summed over every worker that ever ran: the live workers' scoreboard
// slots plus what exited workers had counted (folded in when they are reaped),
// so the totals never go down across worker deaths and reloads.
struct RequestTotals {
  uint64_t responses[kMethodCount][kCodeCount] = {};
  uint64_t latency[kLatencyBuckets] = {};
  uint64_t latency_sum_us = 0;
  uint64_t bytes_out = 0;
  uint64_t app_exceptions = 0;
  uint64_t accepts = 0;
  uint64_t log_records[kLogCounterCount] = {};  // by LogCounter

  // Adds one slot's counters.
  void Add(const WorkerSlot& slot);
  void Add(const RequestTotals& other);
};

}  // namespace wsgid
