// Supervisor: the master process. Binds the listeners, starts the workers
// (posix_spawn of wsgid-worker: the master is never forked without exec), and keeps the
// pool at its size from one loop driven by signalfd: reaping, respawning with back-off,
// rolling restarts on SIGHUP, graceful and fast stops.
//
// Worker lifecycle: starting -> ready (its ready line arrived) -> draining (sent TERM)
// -> exited (reaped).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/scoreboard.h"
#include "daemon/timeout_policy.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

class Supervisor {
 public:
  // Exit codes of wsgid.
  static constexpr int kExitOk = 0;
  static constexpr int kExitConfig = 2;
  static constexpr int kExitAppLoad = 3;

  // Reads the configuration again (file, environment, command line) for a reload;
  // warnings go to the log.
  using ConfigLoader = std::function<StatusOr<Config>(std::vector<std::string>* warnings)>;

  Supervisor(Config config, std::string worker_path, ConfigLoader reload_config);

  // Binds the listeners and starts the first workers; returns once all are ready, or an
  // error (the app failed to import, a worker could not boot) after stopping them all.
  Status Start();
  // Supervises until stopped; returns the process exit code.
  int Run();

 private:
  enum class WorkerState { kStarting, kReady, kDraining };
  struct Worker {
    int id = 0;
    pid_t pid = 0;
    int generation = 0;
    WorkerState state = WorkerState::kStarting;
    UniqueFd ready_pipe;
    int64_t started_ns = 0;
    int64_t abort_sent_ns = 0;  // the timeout ladder: SIGABRT sent at
    bool kill_sent = false;     // ... then SIGKILL after --abort-grace
    uint64_t request_limit = 0; // --max-requests plus this worker's jitter (0: none)
    bool recycle = false;       // reached its limit: replaced, then drained
  };

  StatusOr<pid_t> Spawn(int id, UniqueFd* ready_read_end);
  void SpawnWorker();
  // Reaps exited children; returns the exit statuses of workers that died while starting.
  void Reap();
  void CheckReadyPipes(int timeout_ms);
  // The timeout ladder: frozen workers get SIGABRT (their Python stacks are dumped), then
  // SIGKILL after --abort-grace; Reap() replaces them.
  void CheckTimeouts();
  WorkerObservation Observe(int id);
  void Signal(int sig, bool only_current_generation = false);
  int LiveCurrentWorkers() const;
  // Leaving once replaced: from an older generation, or recycled after --max-requests.
  bool Retiring(const Worker& w) const { return w.generation != generation_ || w.recycle; }
  // Marks workers past --max-requests for replacement.
  void CheckRecycling();
  // Tells systemd (Type=notify) about the state when NOTIFY_SOCKET is set.
  void Notify(const std::string& state);
  void WritePidFile();
  void RemovePidFile();
  void Adjust();
  void StopAll(bool graceful);
  // SIGHUP: re-reads the configuration and starts a new generation; an invalid
  // configuration leaves the running one as it is.
  void Reload();
  // Opens the listeners `binds` asks for, keeping the ones already open for the same
  // address (so a reload never closes a socket with connections queued on it).
  Status OpenListeners(const std::vector<std::string>& binds);
  int NextId() const;

  Config config_;
  std::string worker_path_;
  struct Listener {
    std::string bind;  // as configured (-b), or the address for inherited sockets
    std::string name;  // the bound address
    UniqueFd fd;
  };
  std::vector<Listener> listeners_;
  ConfigLoader reload_config_;
  bool workers_changed_at_run_time_ = false;
  std::string written_pidfile_;
  uint64_t jitter_state_ = 0;
  std::map<pid_t, Worker> workers_;
  Scoreboard scoreboard_;
  TimeoutPolicy timeout_policy_;
  int generation_ = 1;
  int desired_workers_;
  int consecutive_failures_ = 0;
  int64_t next_spawn_ns_ = 0;
  bool booting_ = true;
  int boot_failure_code_ = 0;
  UniqueFd signal_fd_;
};

}  // namespace wsgid
