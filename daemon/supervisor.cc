#include "daemon/supervisor.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>

#include "common/clock.h"
#include "common/control_socket.h"
#include "common/listener.h"
#include "common/log.h"
#include "daemon/connection_balance.h"
#include "daemon/host_limits.h"
#include "daemon/proc_stats.h"

extern char** environ;

namespace wsgid {
namespace {

constexpr int64_t kBootTimeoutNs = 60 * kNsPerSec;


const int kHandledSignals[] = {SIGCHLD, SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
                               SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2};

// posix_spawn runs no code in the child: reset the mask and dispositions
// explicitly, or the signals the master takes through signalfd would stay
// blocked in the child.
void ResetSignalsInChild(posix_spawnattr_t* attr) {
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : kHandledSignals) sigaddset(&defaults, s);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(attr, &empty);
  posix_spawnattr_setsigdefault(attr, &defaults);
  posix_spawnattr_setflags(attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Supervisor::Supervisor(Config config, std::string worker_path,
                       ConfigLoader reload_config,
                       std::vector<std::string> argv)
    : config_(std::move(config)),
      worker_path_(std::move(worker_path)),
      reload_config_(std::move(reload_config)),
      argv_(std::move(argv)) {}

Supervisor::~Supervisor() {
  // The HTTP threads read through this object: stop them first.
  ops_.reset();
  control_.reset();
}

Status Supervisor::Start() {
  // systemd socket activation (and a USR2 re-exec) hand the listeners over as
  // fds 3...
  const char* listen_fds = ::getenv("LISTEN_FDS");
  const char* listen_pid = ::getenv("LISTEN_PID");
  if (listen_fds != nullptr && listen_pid != nullptr &&
      std::atoi(listen_pid) == ::getpid()) {
    int n = std::atoi(listen_fds);
    // The configured binds name them in order when a USR2 re-exec handed them
    // over.
    for (int fd = 3; fd < 3 + n; ++fd) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      std::string name = DescribeSocket(fd);
      size_t i = static_cast<size_t>(fd - 3);
      std::string bind = i < config_.binds.size() ? config_.binds[i] : name;
      listeners_.push_back({bind, name, UniqueFd(fd)});
    }
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDNAMES");
  } else {
    if (config_.binds.empty()) config_.binds.push_back("127.0.0.1:8000");
    if (Status s = OpenListeners(config_.binds); !s.ok()) return s;
  }
  for (const Listener& l : listeners_)
    Log(LogLevel::kInfo) << "Listening at: " << l.name;
  PoolOptions options = PoolOptions::FromConfig(config_);
  auto board = Scoreboard::Create(options.max_ids);
  if (!board.ok()) return board.status();
  scoreboard_ = std::move(board).value();

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : kHandledSignals) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) return Status::FromErrno("signalfd", errno);

  pool_ = std::make_unique<WorkerPool>(this, options);
  scaler_ = std::make_unique<Scaler>(LimitsFromConfig());
  autoscale_ = config_.autoscale;
  started_ns_ = MonotonicNs();
  command_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  PublishSnapshot();
  if (Status s = StartControlPlane(); !s.ok()) return s;
  pool_->Start(MonotonicNs());
  int64_t deadline = MonotonicNs() + kBootTimeoutNs;
  while (true) {
    CheckReadyPipes(100);
    Reap();
    PublishSnapshot();
    if (int code = pool_->boot_failure_code(); code != 0) {
      StopAll(/*graceful=*/false);
      if (code == WorkerPool::kAppLoadError)
        return Status::Error(
            StatusCode::kAppLoad,
            "the application could not be loaded (traceback above)");
      return Status::Unavailable("a worker failed to boot (see above)");
    }
    if (pool_->CountInState(WorkerState::kReady) >= pool_->desired())
      break;
    pool_->Tick(MonotonicNs());  // replaces a worker that died after becoming ready
    if (MonotonicNs() > deadline) {
      StopAll(/*graceful=*/false);
      return Status::Error(
          StatusCode::kDeadlineExceeded,
          "workers did not become ready within the boot timeout");
    }
    // A stop request during boot is honoured at once; other signals wait for
    // Run().
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int s : {SIGTERM, SIGINT, SIGQUIT}) sigaddset(&stop_signals, s);
    timespec no_wait{0, 0};
    if (::sigtimedwait(&stop_signals, nullptr, &no_wait) > 0) {
      StopAll(/*graceful=*/false);
      return Status::Unavailable("stopped during boot");
    }
  }
  pool_->FinishBoot();
  WritePidFile();
  Notify("READY=1\nMAINPID=" + std::to_string(::getpid()));
  return Status::Ok();
}

Status Supervisor::OpenListeners(const std::vector<std::string>& binds) {
  std::vector<Listener> next;
  for (const std::string& bind : binds) {
    auto kept = std::find_if(
        listeners_.begin(), listeners_.end(),
        [&](const Listener& l) { return l.bind == bind && l.fd.valid(); });
    if (kept != listeners_.end()) {
      next.push_back(std::move(*kept));
      continue;
    }
    auto address = ParseBindAddress(bind);
    if (!address.ok()) return address.status();
    auto fd = OpenListener(*address, config_.backlog);
    if (!fd.ok()) return fd.status();
    std::string name = DescribeSocket(fd->get());
    next.push_back({bind, name, std::move(fd).value()});
  }
  for (const Listener& l : listeners_)
    if (l.fd.valid()) Log(LogLevel::kInfo) << "Closing listener " << l.name;
  // A listener no longer configured closes here; the old generation's copies
  // keep it open until those workers have drained.
  listeners_ = std::move(next);
  return Status::Ok();
}

Status Supervisor::Reload() {
  std::vector<std::string> warnings;
  auto fresh =
      reload_config_ ? reload_config_(&warnings) : StatusOr<Config>(config_);
  Status valid = fresh.ok() ? ValidateConfig(*fresh) : fresh.status();
  for (const std::string& w : warnings) Log(LogLevel::kWarning) << w;
  if (!valid.ok()) {
    Log(LogLevel::kError) << "reload failed: invalid configuration: "
                          << valid.message()
                          << "; the running generation keeps serving";
    ++config_reload_failures_;
    return Status::InvalidArgument("invalid configuration: " + valid.message());
  }
  Config next = std::move(fresh).value();
  if (next.binds.empty()) next.binds = config_.binds;
  if (next.binds != config_.binds) {
    if (Status s = OpenListeners(next.binds); !s.ok()) {
      Log(LogLevel::kError) << "reload failed: " << s.message()
                            << "; the running generation keeps serving";
      ++config_reload_failures_;
      return s;
    }
    for (const Listener& l : listeners_)
      Log(LogLevel::kInfo) << "Listening at: " << l.name;
  }
  next.max_workers =
      config_.max_workers;  // sizes the scoreboard: fixed at start
  config_ = std::move(next);
  auto level = ParseLogLevel(config_.log_level);
  (void)OpenErrorLog(config_.error_logfile,
                     level.ok() ? *level : LogLevel::kInfo);
  pool_->Reload(PoolOptions::FromConfig(config_), MonotonicNs());
  return Status::Ok();
}

void Supervisor::ReExec() {
  // The new master is this command line again, from the binary on disk, with
  // the listening sockets as fds 3.. (LISTEN_FDS, as systemd passes them).
  // LISTEN_PID must be the new process's own pid, known only after fork: so
  // fork, then only async-signal-safe calls until execve. Everything the child
  // needs is prepared before.
  std::string self =
      worker_path_.substr(0, worker_path_.rfind('/') + 1) + "wsgid";
  std::vector<std::string> args = argv_;
  args.insert(args.begin(), self);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.rfind("LISTEN_", 0) == 0 || entry.rfind("WSGID_REEXEC=", 0) == 0)
      continue;
    env_strings.push_back(entry);
  }
  env_strings.push_back("LISTEN_FDS=" + std::to_string(listeners_.size()));
  env_strings.push_back("WSGID_REEXEC=1");
  env_strings.push_back(
      "LISTEN_PID=0000000000");  // the child writes its pid in place
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env_strings);
  char* pid_digits = envp[envp.size() - 2] + std::strlen("LISTEN_PID=");
  std::vector<int> fds;
  for (const Listener& l : listeners_) fds.push_back(l.fd.get());
  // Move the sockets above 3+n first, so placing them at 3.. never overwrites a
  // source.
  int high = 3 + static_cast<int>(fds.size()) + 64;
  for (int fd : fds) high = std::max(high, fd + 1);

  pid_t pid = ::fork();
  if (pid < 0) {
    Log(LogLevel::kError) << "USR2: fork failed: " << std::strerror(errno);
    return;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    for (int s : kHandledSignals) ::signal(s, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (size_t i = 0; i < fds.size(); ++i)
      fds[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, high + static_cast<int>(i));
    for (size_t i = 0; i < fds.size(); ++i)
      ::dup2(fds[i], 3 + static_cast<int>(i));
    pid_t me = ::getpid();
    for (int i = 9; i >= 0; --i, me /= 10)
      pid_digits[i] = static_cast<char>('0' + me % 10);
    ::execve(self.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  Log(LogLevel::kInfo)
      << "USR2: started a new master (pid " << pid
      << ") with the listening sockets; send TERM to this one (pid "
      << ::getpid() << ") once it serves";
}

StatusOr<pid_t> Supervisor::Spawn(int id) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
    return Status::FromErrno("pipe2", errno);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

  // Hand the fds over above every fd in use so no dup2 overwrites a later
  // source.
  int base = std::max(write_end.get(), scoreboard_.fd());
  for (const Listener& l : listeners_) base = std::max(base, l.fd.get());
  base += 1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  Config worker_config = config_;
  worker_config.worker_listen_fds.clear();
  for (size_t i = 0; i < listeners_.size(); ++i) {
    int target = base + static_cast<int>(i);
    posix_spawn_file_actions_adddup2(&actions, listeners_[i].fd.get(), target);
    worker_config.worker_listen_fds.push_back(target);
  }
  int ready_fd = base + static_cast<int>(listeners_.size());
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), ready_fd);
  worker_config.worker_ready_fd = ready_fd;
  worker_config.worker_scoreboard_fd = ready_fd + 1;
  posix_spawn_file_actions_adddup2(&actions, scoreboard_.fd(), ready_fd + 1);
  worker_config.worker_id = id;
  {
    std::lock_guard<std::mutex> lock(totals_mu_);
    scoreboard_.Reset(id - 1, MonotonicNs());
    scoreboard_.slot(id - 1).desired_threads.store(
        static_cast<uint32_t>(config_.threads));
    live_ids_.push_back(id);
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  ResetSignalsInChild(&attr);

  // -e values reach the worker through its environment only, never its argv:
  // any local user can read a process's argv (ps), only its owner the
  // environment. A -e name replaces the inherited variable of that name.
  worker_config.env.clear();
  std::vector<std::string> args = ToArgs(worker_config);
  args.insert(args.begin(), worker_path_);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(
        config_.env.begin(), config_.env.end(),
        [name](const auto& variable) { return variable.first == name; });
    if (!replaced) env_strings.emplace_back(entry);
  }
  for (const auto& [name, value] : config_.env)
    env_strings.push_back(name + "=" + value);
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env_strings);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, worker_path_.c_str(), &actions, &attr,
                         argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::FromErrno("cannot start " + worker_path_, rc);
  ready_pipes_[pid] = std::move(read_end);
  return pid;
}

void Supervisor::Signal(pid_t pid, int sig) {
  // Only pids the pool got from Spawn() arrive here, never one read from shared
  // memory.
  ::kill(pid, sig);
}

WorkerObservation Supervisor::Observe(int id) {
  WorkerSlot& slot = scoreboard_.slot(id - 1);
  WorkerObservation observation;
  // Values from shared memory are the worker's word only: clamp them to what
  // can be true.
  int64_t now = MonotonicNs();
  observation.heartbeat_ns =
      std::min(slot.heartbeat_ns.load(std::memory_order_relaxed), now);
  // The threads the worker says it runs (bounded: shared memory is untrusted).
  int threads = std::clamp<int>(
      static_cast<int>(slot.threads.load(std::memory_order_relaxed)), 1,
      kMaxThreadsPerWorker);
  for (int t = 0; t < threads; ++t) {
    ThreadActivity activity = Scoreboard::Read(slot.thread[t]);
    activity.request_start_ns = std::min(activity.request_start_ns, now);
    observation.threads.push_back(std::move(activity));
  }
  return observation;
}

uint64_t Supervisor::RequestsServed(int id) {
  return scoreboard_.slot(id - 1).requests.load(std::memory_order_relaxed);
}

int64_t Supervisor::ResidentMemory(pid_t pid) {
  // /proc/PID/statm of our own child: the kernel's figure, not the
  // scoreboard's.
  return ResidentBytes(pid);
}

void Supervisor::CheckReadyPipes(int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<pid_t> pids;
  fds.push_back({signal_fd_.get(), POLLIN, 0});
  pids.push_back(0);
  fds.push_back({command_fd_.get(), POLLIN, 0});
  pids.push_back(0);
  for (auto& [pid, pipe] : ready_pipes_) {
    fds.push_back({pipe.get(), POLLIN, 0});
    pids.push_back(pid);
  }
  if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
  for (size_t i = 2; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    char buf[16];
    ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
    ready_pipes_.erase(pids[i]);
    // EOF without the ready line: the worker is exiting; Reap() will see why.
    if (n > 0) pool_->OnReady(pids[i], MonotonicNs());
  }
}

void Supervisor::Reap() {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    ready_pipes_.erase(pid);
    if (auto it = pool_->workers().find(pid); it != pool_->workers().end()) {
      // Its counts move to the retired totals before its slot can be reused.
      std::lock_guard<std::mutex> lock(totals_mu_);
      int id = it->second.id;
      retired_.Add(scoreboard_.slot(id - 1));
      live_ids_.erase(std::remove(live_ids_.begin(), live_ids_.end(), id),
                      live_ids_.end());
    }
    pool_->OnExit(pid, status,
                  MonotonicNs());  // orphans adopted as PID 1 are ignored there
  }
}

void Supervisor::StopAll(bool graceful) {
  pool_->StopAll(graceful ? SIGTERM : SIGQUIT);
  int64_t deadline =
      MonotonicNs() +
      (graceful
           ? static_cast<int64_t>(config_.graceful_timeout * 1e9) + kNsPerSec
           : kNsPerSec);
  stopping_ = true;
  while (!pool_->empty() && MonotonicNs() < deadline) {
    ::usleep(20000);
    Reap();
    PublishSnapshot();  // /livez keeps answering during the drain, /readyz says
                        // 503
  }
  if (!pool_->empty()) {
    pool_->StopAll(SIGKILL);
    while (!pool_->empty()) {
      int status;
      pid_t pid = ::waitpid(-1, &status, 0);
      if (pid < 0) break;
      pool_->OnExit(pid, status, MonotonicNs());
    }
  }
}

int Supervisor::Run() {
  Log(LogLevel::kInfo) << "wsgid " << WSGID_VERSION << " serving "
                       << config_.app << " with " << pool_->desired()
                       << " worker(s) x " << config_.threads << " thread(s)";
  while (true) {
    CheckReadyPipes(100);
    signalfd_siginfo si;
    while (::read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
      switch (si.ssi_signo) {
        case SIGTERM:
          Log(LogLevel::kInfo) << "graceful stop requested";
          Notify("STOPPING=1");
          StopAll(/*graceful=*/true);
          RemovePidFile();
          return 0;
        case SIGINT:
        case SIGQUIT:
          Log(LogLevel::kInfo) << "fast stop requested";
          Notify("STOPPING=1");
          StopAll(/*graceful=*/false);
          RemovePidFile();
          return 0;
        case SIGHUP:
          Apply({Command::Kind::kReload});
          break;
        case SIGTTIN:
          pool_->SetDesired(pool_->desired() + 1);
          break;
        case SIGTTOU:
          pool_->SetDesired(pool_->desired() - 1);
          break;
        case SIGUSR1: {
          auto level = ParseLogLevel(config_.log_level);
          (void)OpenErrorLog(config_.error_logfile,
                             level.ok() ? *level : LogLevel::kInfo);
          for (const auto& [pid, w] : pool_->workers()) Signal(pid, SIGUSR1);
          break;
        }
        case SIGUSR2:
          ReExec();
          break;
        default:
          break;
      }
    }
    Reap();
    pool_->Tick(MonotonicNs());
    RunCommands();
    AutoscaleTick();
    BalanceConnections();
    PublishSnapshot();
    if (stop_requested_ != 0) {
      bool graceful = stop_requested_ == 1;
      Log(LogLevel::kInfo) << (graceful ? "graceful" : "fast")
                           << " stop requested (control API)";
      Notify("STOPPING=1");
      StopAll(graceful);
      RemovePidFile();
      return 0;
    }
  }
}

void Supervisor::SetThreads(int threads) {
  // Workers grow or shrink their thread pools in place; new workers start with
  // the new count.
  config_.threads = threads;
  std::lock_guard<std::mutex> lock(totals_mu_);
  for (int id : live_ids_)
    scoreboard_.slot(id - 1).desired_threads.store(
        static_cast<uint32_t>(threads));
}

ScalerLimits Supervisor::LimitsFromConfig() const {
  ScalerLimits l;
  l.min_workers = config_.min_workers;
  l.max_workers = config_.max_workers;
  l.min_threads = config_.min_threads;
  l.max_threads = MaxThreads(config_);
  l.cores = AvailableCores();
  l.memory_budget_bytes = config_.max_memory;
  if (l.memory_budget_bytes == 0)
    l.memory_budget_bytes = CgroupMemoryLimit() * 8 / 10;
  l.scale_down_window_ns =
      static_cast<int64_t>(config_.scale_down_window * 1e9);
  return l;
}

void Supervisor::AutoscaleTick() {
  if (!autoscale_) {
    // No /proc reads while off; the first tick after it is turned on (again)
    // only takes the starting values.
    last_scale_tick_ns_ = 0;
    busy_before_.clear();
    cpu_before_.clear();
    waiting_before_.clear();
    return;
  }
  int64_t now = MonotonicNs();
  if (now - last_scale_tick_ns_ <
      static_cast<int64_t>(config_.autoscale_tick * 1e9))
    return;
  int64_t interval = now - last_scale_tick_ns_;
  bool first = last_scale_tick_ns_ == 0;
  last_scale_tick_ns_ = now;
  // Busy time per thread, counting a request still running up to now, so the
  // differences between ticks are exactly the busy time in between.
  double busy_ns = 0, thread_ns = 0, cpu_demand_s = 0, waiting_ns = 0;
  int measured_workers = 0;  // those whose CPU demand counts this tick
  // The ready workers' threads that are not idle, and those of them blocked on
  // I/O, at this instant.
  int working_threads = 0, io_wait_threads = 0;
  int64_t memory = 0;
  std::map<int64_t, int64_t> busy_now;
  std::map<pid_t, double> cpu_now;
  std::map<int, int64_t> waiting_now;
  for (const auto& [pid, w] : pool_->workers()) {
    if (w.public_state() != WorkerState::kReady) continue;
    const WorkerSlot& slot = scoreboard_.slot(w.id - 1);
    int64_t waiting = slot.waiting_ns.load(std::memory_order_relaxed);
    waiting_now[w.id] = waiting;
    auto waiting_before = waiting_before_.find(w.id);
    if (waiting_before != waiting_before_.end())
      waiting_ns += static_cast<double>(
          std::clamp<int64_t>(waiting - waiting_before->second, 0,
                              interval * kMaxThreadsPerWorker * 16));
    int threads = WorkerThreads(slot);
    for (int t = 0; t < threads; ++t) {
      const ThreadSlot& ts = slot.thread[t];
      int64_t busy = ts.busy_ns.load(std::memory_order_relaxed);
      if (ts.busy.load(std::memory_order_relaxed))
        busy += std::max<int64_t>(
            0, now - ts.request_start_ns.load(std::memory_order_relaxed));
      int64_t key = static_cast<int64_t>(w.id) << 16 | t;
      busy_now[key] = busy;
      auto before = busy_before_.find(key);
      if (before != busy_before_.end()) {
        busy_ns += static_cast<double>(
            std::clamp<int64_t>(busy - before->second, 0, interval));
        thread_ns += static_cast<double>(interval);
      }
    }
    // A thread new since the last tick (the pool grew) spent all its demand in
    // between; a new worker's do not count yet: that is its start-up.
    bool seen = cpu_before_.count(pid) != 0;  // its main thread, id = pid
    measured_workers += seen;
    for (const auto& [tid, demand] : CpuDemandByThread(pid)) {
      cpu_now[tid] = demand;
      auto before = cpu_before_.find(tid);
      if (before != cpu_before_.end())
        cpu_demand_s += std::max(0.0, demand - before->second);
      else if (seen)
        cpu_demand_s += demand;
    }
    memory += PssBytes(pid);
    ThreadStates states = SampleThreadStates(pid);
    io_wait_threads += states.io_wait;
    working_threads += states.io_wait + states.lock_wait + states.computing;
  }
  busy_before_ = std::move(busy_now);
  cpu_before_ = std::move(cpu_now);
  waiting_before_ = std::move(waiting_now);
  if (first || thread_ns == 0) return;

  ScalerInputs in;
  in.now_ns = now;
  in.workers = pool_->desired();
  in.threads = config_.threads;
  in.busy_ratio = busy_ns / thread_ns;
  in.busy_threads = busy_ns / static_cast<double>(interval);
  in.cpu_demand = measured_workers > 0
                      ? cpu_demand_s * 1e9 /
                            (static_cast<double>(interval) * measured_workers)
                      : 0;
  in.memory_bytes = memory;
  in.waiting = waiting_ns / static_cast<double>(interval);
  // The main thread is in rt_sigtimedwait (idle) unless it is expiring
  // connections; one computing thread more or less does not move the share.
  if (working_threads > 0)
    in.io_share = static_cast<double>(io_wait_threads) / working_threads;
  for (const Listener& l : listeners_)
    in.queue += ListenQueueLength(l.fd.get());
  std::optional<ScalerDecision> d = scaler_->Decide(in);
  if (!d) return;
  bool up = d->direction == ScalerDecision::Direction::kUp;
  bool workers = d->kind == ScalerDecision::Kind::kWorkers;
  std::string summary = std::string(up ? "up" : "down") + " to " +
                        std::to_string(d->workers) + " worker(s) x " +
                        std::to_string(d->threads) + " thread(s): " + d->reason;
  Log(LogLevel::kInfo) << "autoscale " << summary;
  ++decisions_[std::string(up ? "up" : "down") + "/" +
               (workers ? "workers" : "threads")];
  recent_decisions_.push_back(summary);
  if (recent_decisions_.size() > 10)
    recent_decisions_.erase(recent_decisions_.begin());
  // A step can change both (threads to the maximum and the workers the rest
  // needs).
  if (d->threads != config_.threads) SetThreads(d->threads);
  if (d->workers != pool_->desired()) pool_->SetDesired(d->workers);
}

void Supervisor::BalanceConnections() {
  uint64_t total = 0;
  int ready = 0;
  for (const auto& [pid, w] : pool_->workers()) {
    if (w.public_state() != WorkerState::kReady) continue;
    ++ready;
    // The worker's word, through shared memory: bounded.
    total += std::min<uint32_t>(
        scoreboard_.slot(w.id - 1).connections.load(std::memory_order_relaxed),
        1u << 24);
  }
  uint32_t quota = ConnectionQuota(total, ready);
  for (const auto& [pid, w] : pool_->workers())
    scoreboard_.slot(w.id - 1).connection_quota.store(
        w.public_state() == WorkerState::kReady ? quota : 0,
        std::memory_order_relaxed);
}

void Supervisor::PublishSnapshot() {
  PoolSnapshot s;
  s.loop_turned_ns = MonotonicNs();
  s.started_ns = started_ns_;
  s.stopping = stopping_;
  s.desired = pool_->desired();
  s.generation = pool_->generation();
  s.threads = config_.threads;
  s.max_workers = config_.max_workers;
  for (const auto& [pid, w] : pool_->workers()) {
    s.workers.push_back({w.id, pid, w.generation, w.public_state()});
  }
  for (const Listener& l : listeners_) s.listeners.push_back(l.name);
  s.spawns = pool_->spawns();
  s.exits = pool_->exits();
  s.reloads_ok = pool_->reloads_ok();
  s.reloads_failed = pool_->reloads_failed() + config_reload_failures_;
  s.autoscale = autoscale_;
  s.min_workers = scaler_ ? scaler_->limits().min_workers : config_.min_workers;
  s.autoscale_max_workers =
      scaler_ ? scaler_->limits().max_workers : config_.max_workers;
  s.min_threads = config_.min_threads;
  s.max_threads = MaxThreads(config_);
  if (scaler_) {
    s.cores = scaler_->limits().cores;
    s.memory_budget_bytes = scaler_->limits().memory_budget_bytes;
  }
  s.decisions = decisions_;
  s.recent_decisions = recent_decisions_;
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(s);
}

PoolSnapshot Supervisor::Snapshot() {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

RequestTotals Supervisor::Totals() {
  std::lock_guard<std::mutex> lock(totals_mu_);
  RequestTotals totals = retired_;
  for (int id : live_ids_) totals.Add(scoreboard_.slot(id - 1));
  return totals;
}

const WorkerSlot* Supervisor::Slot(int id) {
  return id >= 1 && id <= scoreboard_.slots() ? &scoreboard_.slot(id - 1)
                                              : nullptr;
}

CommandResult Supervisor::Execute(const Command& command) {
  std::future<CommandResult> result;
  {
    std::lock_guard<std::mutex> lock(commands_mu_);
    commands_.emplace_back(command, std::promise<CommandResult>());
    result = commands_.back().second.get_future();
  }
  uint64_t one = 1;
  (void)!::write(command_fd_.get(), &one, sizeof one);
  if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    return {503, "busy", "the supervisor did not take the command in time", 0};
  return result.get();
}

void Supervisor::RunCommands() {
  uint64_t count;
  (void)!::read(command_fd_.get(), &count, sizeof count);
  std::deque<std::pair<Command, std::promise<CommandResult>>> batch;
  {
    std::lock_guard<std::mutex> lock(commands_mu_);
    batch.swap(commands_);
  }
  for (auto& [command, promise] : batch) promise.set_value(Apply(command));
}

CommandResult Supervisor::Apply(const Command& command) {
  CommandResult r;
  switch (command.kind) {
    case Command::Kind::kScale:
      pool_->SetDesired(command.value);
      r.value = pool_->desired();
      break;
    case Command::Kind::kThreads: {
      if (command.value > MaxThreads(config_))
        return {422, "invalid_value",
                "threads must be between 1 and " +
                    std::to_string(MaxThreads(config_)) + " (--max-threads)",
                0};
      SetThreads(command.value);
      r.value = command.value;
      break;
    }
    case Command::Kind::kAutoscale: {
      // The scaler's own bounds; --max-workers (manual scaling) stays as is.
      ScalerLimits limits = scaler_->limits();
      if (command.min > 0) limits.min_workers = command.min;
      if (command.max > 0)
        limits.max_workers = std::min(command.max, config_.max_workers);
      if (limits.min_workers > limits.max_workers)
        return {422, "invalid_value", "min is above max", 0};
      if (command.enabled >= 0) autoscale_ = command.enabled == 1;
      scaler_->set_limits(limits);
      Log(LogLevel::kInfo) << "autoscale " << (autoscale_ ? "on" : "off")
                           << " (workers " << limits.min_workers << ".."
                           << limits.max_workers << ")";
      break;
    }
    case Command::Kind::kReload: {
      Notify("RELOADING=1\nMONOTONIC_USEC=" +
             std::to_string(MonotonicNs() / 1000));
      Status s = Reload();
      Notify("READY=1");
      if (!s.ok())
        return {409, "reload_failed",
                s.message() + "; the running generation keeps serving", 0};
      r.status = 202;
      r.value = pool_->generation();
      break;
    }
    case Command::Kind::kRestartWorker:
    case Command::Kind::kKillWorker: {
      bool restart = command.kind == Command::Kind::kRestartWorker;
      bool found =
          restart ? pool_->Restart(command.value) : pool_->Kill(command.value);
      if (!found)
        return {404, "not_found",
                "no serving worker with id " + std::to_string(command.value),
                0};
      r.status = 202;
      r.value = command.value;
      break;
    }
    case Command::Kind::kStop:
      stop_requested_ = command.graceful ? 1 : 2;
      r.status = 202;
      break;
  }
  return r;
}

Status Supervisor::StartControlPlane() {
  Config defaults;
  if (!config_.ops_bind.empty() && config_.ops_bind != "off") {
    ops_ = std::make_unique<OpsServer>(
        this, [this](const PoolSnapshot& pool, const RequestTotals& totals) {
          return GatherMetrics(pool, totals);
        });
    if (Status s = ops_->Start(config_.ops_bind); !s.ok()) {
      ops_.reset();
      // The default port taken (another wsgid on this machine) is no reason not
      // to serve.
      if (config_.ops_bind != defaults.ops_bind)
        return Status::InvalidArgument("--ops-bind: " + s.message());
      Log(LogLevel::kWarning)
          << "ops port: " << s.message() << "; running without it";
    } else {
      Log(LogLevel::kInfo) << "Ops port (/livez /readyz /metrics) at: "
                           << config_.ops_bind;
    }
  }
  ControlApi::Options options;
  bool default_socket = config_.control_socket.empty();
  options.socket_path =
      default_socket ? DefaultControlSocketPath() : config_.control_socket;
  if (options.socket_path == "off") options.socket_path.clear();
  options.socket_mode = config_.control_socket_mode;
  options.tcp_bind = config_.control_bind;
  options.max_workers = config_.max_workers;
  options.version = WSGID_VERSION;
  if (!config_.control_token_file.empty()) {
    std::ifstream in(config_.control_token_file);
    if (!in)
      return Status::InvalidArgument("cannot read --control-token-file " +
                           config_.control_token_file);
    std::stringstream text;
    text << in.rdbuf();
    options.token = text.str();
    while (!options.token.empty() &&
           std::isspace(static_cast<unsigned char>(options.token.back())))
      options.token.pop_back();
    while (!options.token.empty() &&
           std::isspace(static_cast<unsigned char>(options.token.front())))
      options.token.erase(0, 1);
    if (options.token.empty())
      return Status::InvalidArgument("--control-token-file " +
                           config_.control_token_file + " is empty");
  }
  if (options.socket_path.empty() && options.tcp_bind.empty())
    return Status::Ok();
  control_ = std::make_unique<ControlApi>(this, options);
  if (Status s = control_->Start(); !s.ok()) {
    control_.reset();
    if (!default_socket || !options.tcp_bind.empty())
      return Status::InvalidArgument("control API: " + s.message());
    Log(LogLevel::kWarning)
        << "control API: " << s.message() << "; running without it";
    return Status::Ok();
  }
  if (!options.socket_path.empty())
    Log(LogLevel::kInfo) << "Control API at: unix:" << options.socket_path;
  if (!options.tcp_bind.empty())
    Log(LogLevel::kInfo) << "Control API at: " << options.tcp_bind;
  return Status::Ok();
}

MetricsInput Supervisor::GatherMetrics(const PoolSnapshot& pool,
                                       const RequestTotals& totals) {
  MetricsInput in;
  in.pool = &pool;
  in.totals = &totals;
  in.autoscale_enabled = pool.autoscale;
  int64_t now = MonotonicNs();
  for (const auto& w : pool.workers) {
    const WorkerSlot* slot = Slot(w.id);
    if (slot == nullptr) continue;
    in.running_threads += WorkerThreads(*slot);
    in.busy_threads += BusyThreads(*slot);
    double age = std::max<double>(
        0, static_cast<double>(
               now - slot->heartbeat_ns.load(std::memory_order_relaxed)) /
               1e9);
    in.workers.push_back(
        {w.id, w.state == WorkerState::kStarting ? 0 : age, ResidentBytes(w.pid)});
  }
  for (const Listener& l : listeners_)
    in.listen_queues.emplace_back(l.name, ListenQueueLength(l.fd.get()));
  return in;
}

void Supervisor::Notify(const std::string& state) {
  const char* path = ::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return;
  ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
           reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
}

void Supervisor::WritePidFile() {
  if (config_.pidfile.empty()) return;
  // A master started by USR2 runs beside the old one: it takes <pidfile>.2.
  std::string path =
      config_.pidfile + (::getenv("WSGID_REEXEC") != nullptr ? ".2" : "");
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    Log(LogLevel::kError) << "cannot write pid file " << tmp << ": "
                          << std::strerror(errno);
    return;
  }
  WriteAll(fd, std::to_string(::getpid()) + "\n");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) == 0) written_pidfile_ = path;
}

void Supervisor::RemovePidFile() {
  if (written_pidfile_.empty()) return;
  // Only if it is still ours (a newer master may have taken the name over).
  std::ifstream in(written_pidfile_);
  long pid = 0;
  if (in >> pid && pid == ::getpid()) ::unlink(written_pidfile_.c_str());
}

}  // namespace wsgid
