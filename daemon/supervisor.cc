#include "daemon/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "common/clock.h"
#include "common/effective_settings.h"
#include "common/log.h"
#include "daemon/connection_balance.h"
#include "daemon/host_limits.h"
#include "daemon/metrics_gatherer.h"
#include "daemon/proc_stats.h"
#include "daemon/process_spawner.h"
#include "daemon/systemd_notify.h"

namespace wsgid {
namespace {

constexpr int64_t kBootTimeoutNs = 60 * kNsPerSec;
// The longest wait for an event: the pool's timeouts and the drain's deadline
// are checked at least this often, and /livez sees the loop turn.
constexpr int kTurnMs = 100;
// How long the master waits for on_exit (and the hooks before it) to return.
constexpr int64_t kOnExitWaitNs = 5 * kNsPerSec;
// pre_exec runs before the new master starts (USR2); the loop waits for it.
constexpr int64_t kPreExecWaitNs = 5 * kNsPerSec;
constexpr int64_t kStatsdIntervalNs = 1'000'000'000;  // statsd flushes

}  // namespace

Supervisor::Supervisor(Config config, std::string worker_path,
                       ConfigLoader reload_config,
                       std::vector<std::string> argv)
    : config_(std::move(config)),
      worker_path_(std::move(worker_path)),
      argv_(std::move(argv)),
      reload_(std::move(reload_config)),
      hook_helper_(worker_path_),
      hooks_(&hook_helper_),
      listeners_(SystemSocketOps(config_.reuse_port)),
      watchdog_(SystemdWatchdog::FromEnvironment()) {}

Supervisor::~Supervisor() {
  // The HTTP threads read through the backend: answer what they wait for,
  // then stop them.
  commands_.Close();
  control_plane_.Stop();
}

Status Supervisor::Prepare() {
  hooks_.Starting(config_, config_.workers, MonotonicNs());
  if (Status s =
          OpenStartListeners(&listeners_, &config_.binds, config_.backlog);
      !s.ok())
    return s;
  PoolOptions options = PoolOptions::FromConfig(config_);
  auto board = Scoreboard::Create(options.max_ids);
  if (!board.ok()) return board.status();
  slots_ = std::make_unique<WorkerSlots>(std::move(board).value());
  // Before any thread starts: they inherit the mask.
  auto signal_fd = OpenMasterSignalFd();
  if (!signal_fd.ok()) return signal_fd.status();
  signal_fd_ = std::move(signal_fd).value();
  processes_ = std::make_unique<WorkerProcesses>(
      worker_path_, &config_, &listeners_, slots_.get(), &MonotonicNs);
  processes_->SetHooks(&hooks_);
  zygotes_ = std::make_unique<ZygoteProcesses>(worker_path_, &config_,
                                               &listeners_, slots_.get());
  preloader_ = std::make_unique<Preloader>(zygotes_.get(), kBootTimeoutNs);
  processes_->UsePreload(preloader_.get(), zygotes_.get());
  pool_ = std::make_unique<WorkerPool>(processes_.get(), options);
  autoscaler_ = std::make_unique<Autoscaler>(
      ScalerLimitsFor(config_, AvailableCores(), CgroupMemoryLimit()),
      config_.autoscale);
  load_reader_ = std::make_unique<SystemLoadReader>(slots_.get(), &listeners_);
  pool_commands_ = std::make_unique<PoolCommands>(PoolCommands::Parts{
      &config_, pool_.get(), slots_.get(), autoscaler_.get(), &reload_,
      &listeners_, [this](bool graceful) { BeginStop(graceful, Status::Ok()); },
      &hooks_});
  if (Status s = StartStatsd(); !s.ok()) return s;
  started_ns_ = MonotonicNs();
  PublishSnapshot(started_ns_);
  backend_ =
      std::make_unique<LoopBackend>(&snapshots_, slots_.get(), &commands_);
  return control_plane_.Start(
      config_, backend_.get(),
      [this](const PoolSnapshot& pool, const RequestTotals& t) {
        return GatherMetricsInput(pool, t, slots_.get(), listeners_,
                                  MonotonicNs(), &ResidentBytes, &SharedBytes,
                                  &PssBytes);
      });
}

Status Supervisor::Start() {
  if (Status s = Prepare(); !s.ok()) {
    ExitHooks();
    return s;
  }
  pool_->Start(MonotonicNs());
  boot_deadline_ns_ = MonotonicNs() + kBootTimeoutNs;
  // Booting ends serving, or stopping (a failure, a stop signal) until done.
  while (phase_ != Phase::kServing && phase_ != Phase::kDone) Turn();
  if (!boot_outcome_.ok()) ExitHooks();
  return boot_outcome_;
}

int Supervisor::Run() {
  Log(LogLevel::kInfo) << "wsgid " << WSGID_VERSION << " serving "
                       << config_.app << " with " << pool_->desired()
                       << " worker(s) x " << config_.threads << " thread(s)";
  while (phase_ != Phase::kDone) Turn();
  if (statsd_) statsd_->Flush(MonotonicNs(), StatsdTotals(), 0);
  ExitHooks();
  pid_file_.Remove(::getpid());
  return 0;
}

void Supervisor::Turn() {
  WaitForEvents();
  if (phase_ == Phase::kServing)  // the signals that came during boot first
    for (SignalAction action : std::exchange(deferred_, {})) Dispatch(action);
  for (int signo : ReadSignals(signal_fd_.get()))
    OnSignal(ActionForSignal(signo));
  // Before the pool acts on a new count (spawns): Gunicorn's order.
  if (pool_ != nullptr) hooks_.DesiredIs(pool_->desired());
  int64_t now = MonotonicNs();
  bool no_children = Reap(now);
  TickPreload(now);
  switch (phase_) {
    case Phase::kBooting:
      BootTurn(now);
      break;
    case Phase::kServing:
      ServeTurn(now);
      break;
    case Phase::kDraining:
    case Phase::kKilling:
      DrainTurn(now, no_children);
      break;
    case Phase::kDone:
      break;
  }
  hooks_.Pump(MonotonicNs());
  PublishSnapshot(MonotonicNs());
  watchdog_.Tick(MonotonicNs(), [this] { return DescribeService(); });
}

void Supervisor::WaitForEvents() {
  std::vector<pollfd> fds = {{signal_fd_.get(), POLLIN, 0}};
  // Commands wait for serving; ready lines do not matter once draining.
  if (phase_ == Phase::kServing)
    fds.push_back({commands_.wake_fd(), POLLIN, 0});
  std::vector<pid_t> pids(fds.size(), 0);
  size_t zygotes_from = fds.size();
  std::vector<pid_t> zygote_pids;
  if (phase_ == Phase::kBooting || phase_ == Phase::kServing) {
    for (const auto& [pid, channel] : zygotes_->channels()) {
      fds.push_back({channel.get(), POLLIN, 0});
      zygote_pids.push_back(pid);
    }
    zygotes_from = fds.size() - zygote_pids.size();
    pids.resize(fds.size(), 0);
    for (const auto& [pid, pipe] : processes_->ready_pipes()) {
      fds.push_back({pipe.get(), POLLIN, 0});
      pids.push_back(pid);
    }
  }
  if (::poll(fds.data(), fds.size(), kTurnMs) <= 0) return;
  int64_t now = MonotonicNs();
  for (size_t i = 0; i < zygote_pids.size(); ++i)
    if (fds[zygotes_from + i].revents != 0) OnZygoteReport(zygote_pids[i], now);
  for (size_t i = 0; i < fds.size(); ++i) {
    if (pids[i] == 0 || fds[i].revents == 0) continue;
    if (std::optional<int64_t> ready_ns = processes_->TakeReadyLine(pids[i]))
      pool_->OnReady(pids[i], *ready_ns);
  }
}

void Supervisor::OnSignal(SignalAction action) {
  if (phase_ == Phase::kServing) return Dispatch(action);
  if (phase_ != Phase::kBooting || action == SignalAction::kNone) return;
  // A stop during boot is honoured at once; the rest waits for serving.
  if (action == SignalAction::kGracefulStop ||
      action == SignalAction::kFastStop)
    return BeginStop(/*graceful=*/false,
                     Status::Unavailable("stopped during boot"));
  if (std::find(deferred_.begin(), deferred_.end(), action) == deferred_.end())
    deferred_.push_back(action);
}

void Supervisor::Dispatch(SignalAction action) {
  switch (action) {
    case SignalAction::kGracefulStop:
    case SignalAction::kFastStop: {
      bool graceful = action == SignalAction::kGracefulStop;
      Log(LogLevel::kInfo) << (graceful ? "graceful" : "fast")
                           << " stop requested";
      return BeginStop(graceful, Status::Ok());
    }
    case SignalAction::kReload:
      (void)pool_commands_->Apply(Command{Command::Kind::kReload},
                                  MonotonicNs());
      return;
    case SignalAction::kAddWorker:
      return pool_->SetDesired(pool_->desired() + 1);
    case SignalAction::kRemoveWorker:
      return pool_->SetDesired(pool_->desired() - 1);
    case SignalAction::kReopenLogs:
      return ReopenLogs();
    case SignalAction::kReExec:
      return ReExec();
    case SignalAction::kNone:
      return;
  }
}

bool Supervisor::Reap(int64_t now_ns) {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return pid < 0 && errno == ECHILD;
    if (hooks_.OnReaped(pid, status, now_ns)) continue;  // the hook helper
    if (ReapZygote(pid, status, now_ns)) continue;
    processes_->Forget(pid);
    // Its counts move to the retired totals before its slot can be reused.
    if (auto it = pool_->workers().find(pid); it != pool_->workers().end())
      slots_->Retire(it->second.id);
    pool_->OnExit(pid, status, now_ns);  // orphans adopted as PID 1: ignored
    hooks_.ChildExited(pid, status);
  }
}

void Supervisor::BootTurn(int64_t now_ns) {
  if (int code = pool_->boot_failure_code(); code != 0) {
    return BeginStop(
        /*graceful=*/false,
        code == WorkerPool::kAppLoadError
            ? Status::Error(
                  StatusCode::kAppLoad,
                  "the application could not be loaded (traceback above)")
            : Status::Unavailable("a worker failed to boot (see above)"));
  }
  if (pool_->CountInState(WorkerState::kReady) >= pool_->desired())
    return EnterServing();
  pool_->Tick(now_ns);  // replaces a worker that died after becoming ready
  if (now_ns > boot_deadline_ns_)
    BeginStop(
        /*graceful=*/false,
        Status::Error(StatusCode::kDeadlineExceeded,
                      "workers did not become ready within the boot timeout"));
}

void Supervisor::EnterServing() {
  pool_->FinishBoot();
  phase_ = Phase::kServing;
  pid_file_.Write(
      PidFilePath(config_.pidfile, ::getenv("WSGID_REEXEC") != nullptr),
      ::getpid());
  NotifySystemd("READY=1\nMAINPID=" + std::to_string(::getpid()));
  hooks_.Ready();
}

void Supervisor::ServeTurn(int64_t now_ns) {
  pool_->Tick(now_ns);
  int desired = pool_->desired();
  commands_.Drain(
      [this, now_ns](const Command& c) {
        // After a stop in the same batch, only another stop (a no-op) applies.
        if (phase_ != Phase::kServing && c.kind != Command::Kind::kStop)
          return CommandResult{503, "busy", "the supervisor is stopping", 0};
        return pool_commands_->Apply(c, now_ns);
      },
      [this, now_ns] { PublishSnapshot(now_ns); });
  if (phase_ != Phase::kServing) return;  // the API asked for a stop
  Autoscale(now_ns);
  // More workers wanted (a scale command, the scaler): started in this turn,
  // not in the next one up to kTurnMs later; nworkers_changed first.
  if (pool_->desired() > desired) {
    hooks_.DesiredIs(pool_->desired());
    pool_->Tick(now_ns);
  }
  BalanceConnections();
}

void Supervisor::BeginStop(bool graceful, Status outcome) {
  if (phase_ != Phase::kBooting && phase_ != Phase::kServing) return;
  if (phase_ == Phase::kServing) NotifySystemd("STOPPING=1");
  boot_outcome_ = std::move(outcome);
  pool_->StopAll(graceful ? SIGTERM : SIGQUIT);
  preloader_->StopAll(SIGTERM);
  stop_deadline_ns_ = MonotonicNs() + kNsPerSec +
                      (graceful ? SecondsToNs(config_.graceful_timeout) : 0);
  phase_ = Phase::kDraining;
}

void Supervisor::DrainTurn(int64_t now_ns, bool no_children) {
  if (pool_->empty() || (phase_ == Phase::kKilling && no_children)) {
    phase_ = Phase::kDone;
    commands_.Close();
    return;
  }
  if (phase_ == Phase::kDraining && now_ns >= stop_deadline_ns_) {
    pool_->StopAll(SIGKILL);
    phase_ = Phase::kKilling;
  }
}

void Supervisor::OnZygoteReport(pid_t pid, int64_t now_ns) {
  if (std::optional<Preloader::Report> report = zygotes_->ReadReport(pid))
    preloader_->OnReport(pid, *report, now_ns);
}

bool Supervisor::ReapZygote(pid_t pid, int status, int64_t now_ns) {
  // What it said before it exited counts first ("unsafe", then exit 0).
  while (zygotes_->channels().count(pid) != 0) OnZygoteReport(pid, now_ns);
  return preloader_->OnExit(pid, status, now_ns);
}

void Supervisor::TickPreload(int64_t now_ns) {
  std::set<int> generations;
  for (const auto& [pid, w] : pool_->workers())
    generations.insert(w.generation);
  preloader_->Tick(now_ns, pool_->generation(), generations);
}

void Supervisor::ReopenLogs() {
  wsgid::ReopenLogs();
  for (const auto& [pid, w] : pool_->workers())
    processes_->Signal(pid, SIGUSR1);
  if (hook_helper_.pid() > 0) ::kill(hook_helper_.pid(), SIGUSR1);
  // --preload: a ready zygote reopens too (one still importing has no
  // handler yet, and would die of the signal).
  if (std::optional<ZygoteView> z = preloader_->Newest();
      z && z->pid > 0 && z->state == "ready")
    zygotes_->Signal(z->pid, SIGUSR1);
}

void Supervisor::ReExec() {
  if (watchdog_.enabled()) {
    // systemd accepts state from the main pid only (NotifyAccess=main) and,
    // when this master exits, stops the unit and kills the new one with it.
    Log(LogLevel::kError)
        << "USR2 ignored: running under systemd (NOTIFY_SOCKET), which would "
           "kill the new master when this one exits; use `systemctl reload` "
           "(HUP: new code and configuration, rolling) instead";
    return;
  }
  hooks_.PreExec(MonotonicNs() + kPreExecWaitNs);
  ReExecMaster(worker_path_, argv_, listeners_.fds());
}

ServiceStatus Supervisor::DescribeService() {
  ServiceStatus s;
  s.ready_workers = pool_->CountInState(WorkerState::kReady);
  s.desired_workers = pool_->desired();
  RequestTotals totals = slots_->Totals();
  for (const auto& by_method : totals.responses)
    for (uint64_t n : by_method) s.requests_total += n;
  return s;
}

void Supervisor::Autoscale(int64_t now_ns) {
  std::vector<SampledWorker> ready;
  for (const auto& [pid, w] : pool_->workers())
    if (w.public_state() == WorkerState::kReady) ready.push_back({w.id, pid});
  std::optional<ScalerDecision> d =
      autoscaler_->Tick(now_ns, SecondsToNs(config_.autoscale_tick), ready,
                        pool_->desired(), config_.threads, load_reader_.get());
  if (d) pool_commands_->Apply(*d);
}

void Supervisor::BalanceConnections() {
  std::vector<BalancedWorker> workers;
  for (const auto& [pid, w] : pool_->workers())
    workers.push_back(
        {&slots_->slot(w.id), w.public_state() == WorkerState::kReady});
  ApplyConnectionQuotas(workers);
}

void Supervisor::PublishSnapshot(int64_t now_ns) {
  PoolSnapshot s;
  s.loop_turned_ns = now_ns;
  s.started_ns = started_ns_;
  s.stopping = phase_ == Phase::kDraining || phase_ == Phase::kKilling ||
               phase_ == Phase::kDone;
  DescribePool(*pool_, &s);
  s.reloads_failed += reload_.failures();
  s.threads = config_.threads;
  s.max_workers = config_.max_workers;
  s.min_threads = config_.min_threads;
  s.max_threads = MaxThreads(config_);
  s.listeners = listeners_.names();
  autoscaler_->Describe(&s);
  s.settings = EffectiveSettings(config_, EnvValues::kHidden);
  for (int k = 0; k < kLogCounterCount; ++k)
    s.master_log_records[k] = MasterLogRecords(static_cast<LogCounter>(k));
  if (statsd_)
    statsd_->Tick(now_ns, StatsdTotals(), static_cast<int>(s.workers.size()));
  if (std::optional<ZygoteView> z = preloader_->Newest())
    s.preload =
        PoolSnapshot::Preload{z->pid, z->generation, std::string(z->state)};
  snapshots_.Publish(std::move(s));
}

uint64_t Supervisor::MasterLogRecords(LogCounter counter) const {
  return LocalLogCount(counter) + hooks_.LogRecords(counter);
}

RequestTotals Supervisor::StatsdTotals() {
  RequestTotals totals = slots_->Totals();
  for (int k = 0; k < kLogCounterCount; ++k)
    totals.log_records[k] += MasterLogRecords(static_cast<LogCounter>(k));
  return totals;
}

void Supervisor::ExitHooks() { hooks_.Exiting(MonotonicNs() + kOnExitWaitNs); }

Status Supervisor::StartStatsd() {
  if (config_.statsd_host.empty()) return Status::Ok();
  auto sender = OpenStatsdSender(config_.statsd_host);
  if (!sender.ok()) return sender.status();
  statsd_ = std::make_unique<StatsdReporter>(
      std::move(sender).value(), config_.statsd_prefix, config_.dogstatsd_tags,
      kStatsdIntervalNs);
  Log(LogLevel::kInfo) << "statsd metrics to " << config_.statsd_host;
  return Status::Ok();
}

}  // namespace wsgid
