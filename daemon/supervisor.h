// Supervisor: the master process's one loop. It waits (poll on the signalfd,
// the command queue's eventfd and the starting workers' ready pipes, 100 ms at
// most), then dispatches: signals, ready lines, reaped children, the pool's
// clock tick, the control API's commands, the scaler, the connection balance,
// and publishes a snapshot for the ops and control threads. Everything else is
// in rooms of its own (listener_set, worker_slots, worker_processes,
// process_spawner, pool_commands, config_reload, command_queue, autoscaler,
// control_plane, pid_file, systemd_notify, snapshot_publisher,
// statsd_reporter).
//
// The loop goes through phases: booting (the first workers start; only a stop
// signal is acted on, the others wait for serving) -> serving -> draining (a
// stop: TERM graceful, INT/QUIT or a failed boot fast, or the API's stop; the
// ops port keeps answering, /readyz says 503) -> killing (the drain's deadline
// passed: SIGKILL) -> done. Every stop goes through BeginStop().
//
// Signals: TERM graceful stop, INT/QUIT fast stop, HUP reload (configuration
// and code), TTIN/TTOU one worker more/less, USR1 reopen logs, USR2 start a new
// master (the binary on disk) that inherits the listeners and serves beside
// this one (refused under systemd's notify protocol: systemd would kill the new
// master with the old one; `systemctl reload` is the way there).
//
// Under systemd every turn also pings the watchdog and refreshes STATUS=
// (systemd_watchdog.h): a loop that stops turning stops the pings.
//
// Thread safety: Start() and Run() on the main thread, the loop's. The ops and
// control threads reach only its LoopBackend (loop_backend.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "daemon/autoscaler.h"
#include "daemon/command_queue.h"
#include "daemon/config_reload.h"
#include "daemon/control_plane.h"
#include "daemon/hook_helper.h"
#include "daemon/listener_set.h"
#include "daemon/loop_backend.h"
#include "daemon/master_hooks.h"
#include "daemon/master_signals.h"
#include "daemon/pid_file.h"
#include "daemon/pool_commands.h"
#include "daemon/preloader.h"
#include "daemon/snapshot_publisher.h"
#include "daemon/statsd_reporter.h"
#include "daemon/system_load_reader.h"
#include "daemon/systemd_watchdog.h"
#include "daemon/worker_pool.h"
#include "daemon/worker_processes.h"
#include "daemon/worker_slots.h"
#include "daemon/zygote_processes.h"

namespace wsgid {

class Supervisor {
 public:
  // Reads the configuration again (file, environment, command line) for a
  // reload; warnings go to the log.
  using ConfigLoader = ConfigReload::Loader;

  // `argv` is the master's own command line (USR2 starts it again).
  Supervisor(Config config, std::string worker_path, ConfigLoader reload_config,
             std::vector<std::string> argv);
  ~Supervisor();

  // Binds the listeners and starts the first workers; returns once all are
  // ready, or an error after stopping them all: kAppLoad when the app could
  // not be imported, else a worker could not boot, the boot timed out or a
  // stop signal came.
  Status Start();
  // Supervises until stopped; returns the process exit code.
  int Run();

 private:
  enum class Phase { kBooting, kServing, kDraining, kKilling, kDone };

  // Set-up, before the first worker.
  Status Prepare();

  // One turn of the loop, and its parts.
  void Turn();
  void WaitForEvents();
  void OnSignal(SignalAction action);
  void Dispatch(SignalAction action);
  // Reaps every exited child; true when the process has no child left.
  bool Reap(int64_t now_ns);
  void BootTurn(int64_t now_ns);
  void EnterServing();
  void ServeTurn(int64_t now_ns);
  void DrainTurn(int64_t now_ns, bool no_children);
  // The one stop path: signals the workers and starts the drain (a stop
  // already under way stays as it is). `outcome` is what Start() returns when
  // the stop came during boot.
  void BeginStop(bool graceful, Status outcome);

  // --preload (issue 16): a zygote's report on its channel; its exit (true
  // when `pid` was a zygote); the zygotes' own clock tick.
  void OnZygoteReport(pid_t pid, int64_t now_ns);
  bool ReapZygote(pid_t pid, int status, int64_t now_ns);
  void TickPreload(int64_t now_ns);

  void ReopenLogs();
  void ReExec();
  ServiceStatus DescribeService();
  void Autoscale(int64_t now_ns);
  void BalanceConnections();
  void PublishSnapshot(int64_t now_ns);
  // on_exit, awaited for a few seconds at most.
  void ExitHooks();
  // --statsd-host: opens the socket (issue 15).
  Status StartStatsd();
  // The error-log records of the master and of its hook helpers.
  uint64_t MasterLogRecords(LogCounter counter) const;
  // The workers' totals plus MasterLogRecords.
  RequestTotals StatsdTotals();

  Config config_;
  std::string worker_path_;
  std::vector<std::string> argv_;
  ConfigReload reload_;
  HookHelper hook_helper_;  // the master-side hooks' Python helper
  MasterHooks hooks_;
  ListenerSet listeners_;
  std::unique_ptr<WorkerSlots> slots_;
  std::unique_ptr<WorkerProcesses> processes_;
  std::unique_ptr<ZygoteProcesses> zygotes_;
  std::unique_ptr<Preloader> preloader_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<Autoscaler> autoscaler_;
  std::unique_ptr<SystemLoadReader> load_reader_;
  std::unique_ptr<PoolCommands> pool_commands_;
  CommandQueue commands_;
  SnapshotPublisher snapshots_;
  std::unique_ptr<LoopBackend> backend_;  // what the HTTP threads reach
  ControlPlane control_plane_;
  PidFile pid_file_;
  SystemdWatchdog watchdog_;  // WATCHDOG=1 and STATUS= each turn
  UniqueFd signal_fd_;
  std::unique_ptr<StatsdReporter> statsd_;  // null without --statsd-host

  Phase phase_ = Phase::kBooting;
  int64_t started_ns_ = 0;
  int64_t boot_deadline_ns_ = 0;
  int64_t stop_deadline_ns_ = 0;
  Status boot_outcome_;                 // what Start() returns
  std::vector<SignalAction> deferred_;  // signals that came during boot
};

}  // namespace wsgid
