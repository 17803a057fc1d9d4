// WorkerPool: the workers and the pool's size, driven by events (spawned,
// ready, exited, a clock tick, a reload, a new desired count, the operator's
// restart and kill, stop).
//
// Each worker is an explicit state machine (daemon/worker_lifecycle.h): the
// pool turns what happens into lifecycle events and fires them through the
// transition table, which alone changes a worker's state and says which
// signal to send. It decides; the ProcessControl it is given acts (spawn,
// signal) and reports (the scoreboard), so the logic runs in unit tests with
// fake processes and a fake clock: every event carries `now_ns`
// (CLOCK_MONOTONIC). Thread-compatible: the supervisor's loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "common/status_codes.h"
#include "common/worker_state.h"
#include "daemon/timeout_policy.h"
#include "daemon/worker_lifecycle.h"

namespace wsgid {

// What the pool needs from the operating system.
class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // Starts a worker of `generation` in scoreboard slot `id` (1-based);
  // returns its pid.
  virtual StatusOr<pid_t> Spawn(int id, int generation) = 0;
  // A worker SpawnBatch started, and when its start began (0: the tick that
  // asked for it).
  struct Started {
    pid_t pid = 0;
    int64_t started_ns = 0;
  };
  // Starts the workers of `generation` in slots `ids` (one tick's spawns)
  // together: with --preload the zygote is asked for every fork at once and
  // forks them back to back. One result per id, in order. By default, Spawn
  // for each in turn.
  virtual std::vector<StatusOr<Started>> SpawnBatch(const std::vector<int>& ids,
                                                    int generation);
  // Whether workers of `generation` can be started now (with --preload they
  // wait while their generation's zygote imports the app).
  virtual bool CanSpawn(int /*generation*/) { return true; }
  virtual void Signal(pid_t pid, int sig) = 0;
  // What the worker in slot `id` reports: heartbeat and per-thread requests.
  virtual WorkerObservation Observe(int id) = 0;
  // Requests the worker in slot `id` has finished.
  virtual uint64_t RequestsServed(int id) = 0;
  // Memory of worker `pid` judged by --max-worker-memory, bytes: resident,
  // or unshared (USS) with --preload; 0 when unknown (it just exited).
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
  using State = LifecycleState;
  struct Worker {
    int id = 0;
    pid_t pid = 0;
    int generation = 0;
    State state = State::kStarting;  // changed only by WorkerPool::Fire
    int64_t started_ns = 0;
    int64_t abort_sent_ns = 0;   // when it entered kAborting: the grace runs
    uint64_t request_limit = 0;  // --max-requests plus its jitter (0: none)
    // Why it leaves, once that is decided (an event's reason, see the table);
    // an unexpected exit is classified when it is reaped.
    ExitReason leave_reason = ExitReason::kExit;
    // Not a state: only whether "over --max-worker-memory before serving a
    // request" was logged, so it is logged once.
    bool memory_warned = false;

    // How the rest of the system (API, metrics) sees this worker.
    WorkerState public_state() const { return StateInfo(state).public_state; }
  };

  // The exit reasons counted in exits(), all present from the start, in
  // ExitReason order.
  static constexpr const auto& kExitReasons = kExitReasonNames;

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
  // Sends `sig` to every worker (stop): those starting or serving become
  // draining; those on the timeout ladder stay there (its SIGKILL follows).
  void StopAll(int sig);
  // Replaces worker `id` gracefully (its replacement is ready first): false
  // if there is no such starting or serving worker.
  bool Restart(int id);
  // Kills worker `id` at once (SIGKILL): false if there is no such worker
  // starting, serving or dumping its stacks after a timeout.
  bool Kill(int id);

  int desired() const { return desired_; }
  int generation() const { return generation_; }
  // The workers in lifecycle state `state`.
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
  // A lifecycle event with what it carries.
  struct Event {
    LifecycleEvent kind;
    ExitReason reason = ExitReason::kExit;  // kRecycle, kDrain, kFrozen...
    int signal = 0;                         // kStop
  };
  // Moves `w` along its row of the transition table and acts (signal, exit
  // reason). With no row, logs an error and leaves `w` alone; returns whether
  // there was a row.
  bool Fire(Worker* w, const Event& event);
  // The worker in slot `id` that has a row for `event`, or nullptr.
  Worker* FindById(int id, LifecycleEvent event);

  // Starts `count` workers in the smallest free slots, in one batch.
  void SpawnMissing(int count, int64_t now_ns);
  uint64_t NextRequestLimit();
  bool IdInUse(int id) const;
  // Leaving once replaced: from an older generation, or marked for
  // replacement (after --max-requests, above --max-worker-memory, restarted).
  bool Retiring(const Worker& w) const {
    return w.generation != generation_ ||
           StateInfo(w.state).marked_for_replacement;
  }
  static bool Serving(const Worker& w) { return StateInfo(w.state).serving; }
  int LiveCurrentWorkers() const;
  void CountExit(ExitReason reason) { ++exits_[ExitReasonName(reason)]; }

  // OnExit's steps, by how the state it was reaped in accounts for it.
  void OnExitAfterTimeout(const Worker& w, int status);
  void OnExpectedExit(const Worker& w, int status);
  void OnUnexpectedExit(const Worker& w, State reaped_in, int status,
                        int64_t now_ns);
  // A worker of the newest generation that could not import the app while
  // an older generation still serves: the reload failed.
  bool IsFailedReload(const Worker& w, int exit_code) const;
  void RevertReload();
  // Counts a crash towards the crash loop and delays the next spawn.
  void NoteCrash(const Worker& w, bool before_ready, int status,
                 int64_t now_ns);

  // Tick's steps.
  void CheckTimeouts(int64_t now_ns);
  void CheckAbortGrace(Worker* w, int64_t now_ns);
  void CheckBootTimeout(Worker* w, int64_t now_ns);
  void CheckFrozen(Worker* w, int64_t now_ns);
  // Marks ready workers past --max-requests or --max-worker-memory for
  // replacement; Adjust() starts the replacement and drains them once it is
  // ready, as for a reload.
  void CheckRecycling();
  // The reason to recycle ready worker `w`, if any.
  std::optional<ExitReason> RecycleReason(Worker* w);
  void Adjust(int64_t now_ns);
  // Drains the newest workers beyond the desired count (scale-down).
  void DrainSurplus();
  // Drains one retiring worker per ready replacement (reload, recycling).
  void RetireReplaced();

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
