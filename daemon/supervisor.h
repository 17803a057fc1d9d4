// Supervisor: the master process. Binds the listeners, owns the scoreboard,
// starts workers (posix_spawn of wsgid-worker: the master never forks without
// exec) and runs the one loop that drives the WorkerPool: signals through
// signalfd, ready pipes, reaping, a 100 ms tick for timeouts. It is the
// WorkerPool's ProcessControl on the real OS.
//
// Signals: TERM graceful stop, INT/QUIT fast stop, HUP reload (configuration
// and code), TTIN/TTOU one worker more/less, USR1 reopen logs, USR2 start a new
// master (the binary on disk) that inherits the listeners and serves beside
// this one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/scoreboard.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "daemon/control_api.h"
#include "daemon/control_backend.h"
#include "daemon/metrics.h"
#include "daemon/ops_server.h"
#include "daemon/pool_snapshot.h"
#include "daemon/scaler.h"
#include "daemon/worker_pool.h"

namespace wsgid {

class Supervisor : public ProcessControl, public ControlBackend {
 public:
  // Reads the configuration again (file, environment, command line) for a
  // reload; warnings go to the log.
  using ConfigLoader =
      std::function<StatusOr<Config>(std::vector<std::string>* warnings)>;

  // `argv` is the master's own command line (USR2 starts it again).
  Supervisor(Config config, std::string worker_path, ConfigLoader reload_config,
             std::vector<std::string> argv);
  ~Supervisor() override;

  // Binds the listeners and starts the first workers; returns once all are
  // ready, or an error (the app failed to import, a worker could not boot)
  // after stopping them all.
  Status Start();
  // Supervises until stopped; returns the process exit code.
  int Run();

  // ProcessControl.
  StatusOr<pid_t> Spawn(int id) override;
  void Signal(pid_t pid, int sig) override;
  WorkerObservation Observe(int id) override;
  uint64_t RequestsServed(int id) override;
  int64_t ResidentMemory(pid_t pid) override;

  // ControlBackend (called from the ops and control threads).
  PoolSnapshot Snapshot() override;
  RequestTotals Totals() override;
  const WorkerSlot* Slot(int id) override;
  CommandResult Execute(const Command& command) override;

 private:
  struct Listener {
    std::string
        bind;  // as configured (-b), or the address for inherited sockets
    std::string name;  // the bound address
    UniqueFd fd;
  };

  // Waits up to timeout_ms for ready lines and signals; feeds ready lines to
  // the pool.
  void CheckReadyPipes(int timeout_ms);
  void Reap();
  // Signals every worker, waits for them (graceful: up to --graceful-timeout),
  // then kills what is left.
  void StopAll(bool graceful);
  // SIGHUP: re-reads the configuration and starts a new generation; an invalid
  // configuration leaves the running one as it is.
  Status Reload();
  // Publishes the pool's state for the other threads.
  void PublishSnapshot();
  // Applies the commands the control API queued.
  void RunCommands();
  CommandResult Apply(const Command& command);
  // Starts the ops port and the control API (a default address in use is a
  // warning).
  Status StartControlPlane();
  // The scaler's tick: measures the interval since the last one and applies a
  // decision, if any.
  void AutoscaleTick();
  // Hands each ready worker its keep-alive connection quota (every turn, with
  // or without autoscaling: a scale-up or TTIN needs it as much).
  void BalanceConnections();
  ScalerLimits LimitsFromConfig() const;
  // Sets every live worker's thread target (and the one new workers start
  // with).
  void SetThreads(int threads);
  MetricsInput GatherMetrics(const PoolSnapshot& pool,
                             const RequestTotals& totals);
  // SIGUSR2: a new master from the binary on disk, handed the listening
  // sockets.
  void ReExec();
  // Opens the listeners `binds` asks for, keeping the ones already open for the
  // same address (so a reload never closes a socket with connections queued on
  // it).
  Status OpenListeners(const std::vector<std::string>& binds);
  // Tells systemd (Type=notify) about the state when NOTIFY_SOCKET is set.
  void Notify(const std::string& state);
  void WritePidFile();
  void RemovePidFile();

  Config config_;
  std::string worker_path_;
  ConfigLoader reload_config_;
  std::vector<std::string> argv_;
  std::vector<Listener> listeners_;
  Scoreboard scoreboard_;
  std::unique_ptr<WorkerPool> pool_;
  std::map<pid_t, UniqueFd>
      ready_pipes_;  // read ends, of workers still starting
  std::string written_pidfile_;
  UniqueFd signal_fd_;
  int64_t started_ns_ = 0;
  bool stopping_ = false;
  int stop_requested_ = 0;  // 1 graceful, 2 fast: asked through the API

  std::mutex snapshot_mu_;
  PoolSnapshot snapshot_;
  // Counters of exited workers, and the slots of the live ones, for monotonic
  // totals.
  std::mutex totals_mu_;
  RequestTotals retired_;
  std::vector<int> live_ids_;
  uint64_t config_reload_failures_ = 0;

  std::mutex commands_mu_;
  std::deque<std::pair<Command, std::promise<CommandResult>>> commands_;
  UniqueFd command_fd_;  // eventfd: wakes the loop for queued commands

  // The scaler and what its previous tick measured.
  std::unique_ptr<Scaler> scaler_;
  bool autoscale_ = false;
  int64_t last_scale_tick_ns_ = 0;
  std::map<int64_t, int64_t> busy_before_;  // (id << 16 | thread) -> busy ns
  std::map<pid_t, double> cpu_before_;      // worker thread -> CPU demand, s
  std::map<int, int64_t> waiting_before_;   // worker id -> waiting_ns
  std::map<std::string, uint64_t> decisions_;
  std::vector<std::string> recent_decisions_;

  std::unique_ptr<OpsServer> ops_;
  std::unique_ptr<ControlApi> control_;
};

}  // namespace wsgid
