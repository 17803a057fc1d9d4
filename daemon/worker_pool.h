// WorkerPool: the worker lifecycle and the pool's size, as a state machine
// driven by events (spawned, ready, exited, a clock tick, a reload, a new
// desired count).
//
// Each worker: starting -> ready (its ready line arrived) -> draining (sent
// TERM) -> exited (reaped). It decides; the ProcessControl it is given acts
// (spawn, signal) and reports (the scoreboard), so the logic runs in unit tests
// with fake processes and a fake clock: every event carries `now_ns`
// (CLOCK_MONOTONIC). Thread-compatible.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "common/status_codes.h"
#include "common/worker_state.h"
#include "daemon/timeout_policy.h"

namespace wsgid {

// What the pool needs from the operating system.
class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // Starts a worker in scoreboard slot `id` (1-based); returns its pid.
  virtual StatusOr<pid_t> Spawn(int id) = 0;
  virtual void Signal(pid_t pid, int sig) = 0;
  // What the worker in slot `id` reports: heartbeat and per-thread requests.
  virtual WorkerObservation Observe(int id) = 0;
  // Requests the worker in slot `id` has finished.
  virtual uint64_t RequestsServed(int id) = 0;
  // Resident memory of worker `pid`, bytes; 0 when unknown (it just exited).
  virtual int64_t ResidentMemory(pid_t pid) = 0;
};

struct PoolOptions {
  int workers = 1;
  int max_ids = 64;  // scoreboard slots: ids are 1..max_ids
  TimeoutPolicy timeouts;
  int64_t abort_grace_ns = 1'000'000'000;    // SIGABRT to SIGKILL
  int64_t boot_timeout_ns = 60'000'000'000;  // starting to ready
  int max_requests = 0;  // recycle after this many (0: never)
  int max_requests_jitter = 0;
  // Recycle a ready worker whose resident memory is above this (0: never).
  int64_t max_worker_memory = 0;

  static PoolOptions FromConfig(const Config& config);
};

class WorkerPool {
 public:
  enum class State { kStarting, kReady, kDraining };
  struct Worker {
    int id = 0;
    pid_t pid = 0;
    int generation = 0;
    State state = State::kStarting;
    int64_t started_ns = 0;
    int64_t abort_sent_ns = 0;  // the timeout ladder: SIGABRT sent at...
    bool kill_sent = false;     // ...then SIGKILL after the abort grace
    uint64_t request_limit =
        0;                 // --max-requests plus this worker's jitter (0: none)
    bool recycle = false;  // reached its limit: replaced, then drained
    std::string
        leave_reason;  // why it was drained or killed (an exit reason below)
    bool memory_warned = false;  // over --max-worker-memory before a request

    // How the rest of the system (API, metrics) sees this worker.
    WorkerState public_state() const;
  };

  // The exit reasons counted in exits(), all present from the start.
  static constexpr const char* kExitReasons[] = {"exit",
                                                 "crash",
                                                 "heartbeat_timeout",
                                                 "request_timeout",
                                                 "max_requests",
                                                 "scale_down",
                                                 "reload",
                                                 "boot_failure",
                                                 "max_worker_memory"};

  // Exit code of a worker whose application could not be imported.
  static constexpr int kAppLoadError =
      StatusCodeInfo(StatusCode::kAppLoad).worker_exit;

  WorkerPool(ProcessControl* control, PoolOptions options);

  // Starts the first workers. While booting, a worker exiting before it is
  // ready is a boot failure (see boot_failure_code) instead of a crash to
  // respawn.
  void Start(int64_t now_ns);
  void FinishBoot() { booting_ = false; }
  int boot_failure_code() const { return boot_failure_code_; }

  void OnReady(pid_t pid, int64_t now_ns);
  // A reaped child (unknown pids, e.g. orphans adopted as PID 1, are ignored).
  void OnExit(pid_t pid, int wait_status, int64_t now_ns);
  // Timeouts, recycling (--max-requests, --max-worker-memory: the worker's
  // resident memory is read here, each tick), boot timeouts and the pool's
  // size.
  void Tick(int64_t now_ns);
  // A new generation started with `options`: replacements become ready before
  // the old workers drain. A count changed at run time (SetDesired) is kept.
  void Reload(const PoolOptions& options, int64_t now_ns);
  // A new desired count (TTIN/TTOU, the control API), within 1..max_ids/2.
  void SetDesired(int workers);
  // Signals every worker and marks it draining (stop).
  void StopAll(int sig);
  // Replaces worker `id` gracefully (its replacement is ready first), or kills
  // it at once. False if there is no such serving worker.
  bool Restart(int id);
  bool Kill(int id);

  int desired() const { return desired_; }
  int generation() const { return generation_; }
  int CountInState(State state) const;
  // The workers whose public_state() is `state`.
  int CountInState(WorkerState state) const;
  bool empty() const { return workers_.empty(); }
  const std::map<pid_t, Worker>& workers() const { return workers_; }
  uint64_t spawns() const { return spawns_; }
  // Reloads whose new generation came up, and those reverted (code that does
  // not import).
  uint64_t reloads_ok() const { return reloads_ok_; }
  uint64_t reloads_failed() const { return reloads_failed_; }
  const std::map<std::string, uint64_t>& exits() const { return exits_; }

 private:
  void SpawnOne(int64_t now_ns);
  int NextId() const;
  // Leaving once replaced: from an older generation, or recycled (after
  // --max-requests, above --max-worker-memory, or restarted).
  bool Retiring(const Worker& w) const {
    return w.generation != generation_ || w.recycle;
  }
  static bool Serving(const Worker& w) {
    return w.state != State::kDraining && w.abort_sent_ns == 0;
  }
  int LiveCurrentWorkers() const;
  void Drain(Worker* w, const char* reason);
  void CountExit(const std::string& reason) { ++exits_[reason]; }
  void CheckTimeouts(int64_t now_ns);
  // Marks ready workers past --max-requests or --max-worker-memory for
  // replacement; Adjust() starts the replacement and drains them once it is
  // ready, as for a reload.
  void CheckRecycling();
  void Adjust(int64_t now_ns);

  ProcessControl* control_;
  PoolOptions options_;
  std::map<pid_t, Worker> workers_;
  int generation_ = 1;
  int desired_;
  bool desired_changed_at_run_time_ = false;
  bool booting_ = true;
  int boot_failure_code_ = 0;
  int consecutive_failures_ = 0;
  int64_t next_spawn_ns_ = 0;
  uint64_t jitter_state_ = 0x2545f4914f6cdd1dull;
  uint64_t spawns_ = 0;
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  int confirmed_generation_ =
      0;  // the newest generation with a worker that became ready
  std::map<std::string, uint64_t> exits_;
};

}  // namespace wsgid
