#include "daemon/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>

#include "common/listener.h"
#include "common/log.h"

extern char** environ;

namespace wsgid {
namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kBootTimeoutNs = 60 * kNsPerSec;
// A worker that dies sooner than this after starting counts towards a crash loop.
constexpr int64_t kCrashWindowNs = 2 * kNsPerSec;
constexpr int64_t kMaxBackoffNs = 30 * kNsPerSec;
// Worker exit code for "the application could not be imported".
constexpr int kWorkerAppLoadError = 4;

int64_t NowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

const int kHandledSignals[] = {SIGCHLD, SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
                               SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2};

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Supervisor::Supervisor(Config config, std::string worker_path, ConfigLoader reload_config)
    : config_(std::move(config)),
      worker_path_(std::move(worker_path)),
      reload_config_(std::move(reload_config)),
      desired_workers_(config_.workers) {
  timeout_policy_.timeout_ns = static_cast<int64_t>(config_.timeout * 1e9);
  timeout_policy_.request_timeout_ns = static_cast<int64_t>(config_.request_timeout * 1e9);
}

Status Supervisor::Start() {
  // systemd socket activation hands the listeners over as fds 3.. (LISTEN_FDS).
  const char* listen_fds = ::getenv("LISTEN_FDS");
  const char* listen_pid = ::getenv("LISTEN_PID");
  if (listen_fds != nullptr && listen_pid != nullptr && std::atoi(listen_pid) == ::getpid()) {
    int n = std::atoi(listen_fds);
    for (int fd = 3; fd < 3 + n; ++fd) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      std::string name = DescribeSocket(fd);
      listeners_.push_back({name, name, UniqueFd(fd)});
    }
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDNAMES");
  } else {
    if (config_.binds.empty()) config_.binds.push_back("127.0.0.1:8000");
    if (Status s = OpenListeners(config_.binds); !s.ok()) return s;
  }
  for (const Listener& l : listeners_) Log(LogLevel::kInfo) << "Listening at: " << l.name;
  // Room for the largest pool plus as many workers draining during a reload.
  auto board = Scoreboard::Create(2 * config_.max_workers);
  if (!board.ok()) return board.status();
  scoreboard_ = std::move(board).value();

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : kHandledSignals) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) return Status::FromErrno("signalfd", errno);

  for (int i = 0; i < desired_workers_; ++i) SpawnWorker();
  int64_t deadline = NowNs() + kBootTimeoutNs;
  while (true) {
    CheckReadyPipes(100);
    Reap();
    if (boot_failure_code_ != 0) {
      StopAll(/*graceful=*/false);
      if (boot_failure_code_ == kWorkerAppLoadError)
        return Status::Error("the application could not be loaded (traceback above)");
      return Status::Error("a worker failed to boot (see above)");
    }
    int ready = 0;
    for (auto& [pid, w] : workers_) ready += w.state == WorkerState::kReady;
    if (ready >= desired_workers_) break;
    Adjust();  // replaces a worker that died after becoming ready
    if (NowNs() > deadline) {
      StopAll(/*graceful=*/false);
      return Status::Error("workers did not become ready within the boot timeout");
    }
    // A stop request during boot is honoured at once; other signals wait for Run().
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int s : {SIGTERM, SIGINT, SIGQUIT}) sigaddset(&stop_signals, s);
    timespec no_wait{0, 0};
    if (::sigtimedwait(&stop_signals, nullptr, &no_wait) > 0) {
      StopAll(false);
      return Status::Error("stopped during boot");
    }
  }
  booting_ = false;
  WritePidFile();
  Notify("READY=1\nMAINPID=" + std::to_string(::getpid()));
  return Status::Ok();
}

Status Supervisor::OpenListeners(const std::vector<std::string>& binds) {
  std::vector<Listener> next;
  for (const std::string& bind : binds) {
    auto kept = std::find_if(listeners_.begin(), listeners_.end(),
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
  // A listener no longer configured closes here; the old generation's copies keep it
  // open until those workers have drained.
  listeners_ = std::move(next);
  return Status::Ok();
}

void Supervisor::Reload() {
  std::vector<std::string> warnings;
  auto fresh = reload_config_ ? reload_config_(&warnings) : StatusOr<Config>(config_);
  Status valid = fresh.ok() ? ValidateConfig(*fresh) : fresh.status();
  for (const std::string& w : warnings) Log(LogLevel::kWarning) << w;
  if (!valid.ok()) {
    Log(LogLevel::kError) << "reload failed: invalid configuration: " << valid.message()
                          << "; the running generation keeps serving";
    return;
  }
  Config next = std::move(fresh).value();
  if (next.binds.empty()) next.binds = config_.binds;
  if (next.binds != config_.binds) {
    if (Status s = OpenListeners(next.binds); !s.ok()) {
      Log(LogLevel::kError) << "reload failed: " << s.message()
                            << "; the running generation keeps serving";
      return;
    }
    for (const Listener& l : listeners_) Log(LogLevel::kInfo) << "Listening at: " << l.name;
  }
  // Counts changed at run time (TTIN/TTOU) are kept; otherwise the new file's count applies.
  if (!workers_changed_at_run_time_) desired_workers_ = next.workers;
  next.max_workers = config_.max_workers;  // sizes the scoreboard: fixed at start
  config_ = std::move(next);
  timeout_policy_.timeout_ns = static_cast<int64_t>(config_.timeout * 1e9);
  timeout_policy_.request_timeout_ns = static_cast<int64_t>(config_.request_timeout * 1e9);
  auto level = ParseLogLevel(config_.log_level);
  (void)OpenErrorLog(config_.error_logfile, level.ok() ? *level : LogLevel::kInfo);
  ++generation_;
  consecutive_failures_ = 0;
  next_spawn_ns_ = 0;
  Log(LogLevel::kInfo) << "reload: starting generation " << generation_ << " ("
                       << desired_workers_ << " worker(s))";
}

StatusOr<pid_t> Supervisor::Spawn(int id, UniqueFd* ready_read_end) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return Status::FromErrno("pipe2", errno);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

  // Hand the fds over above every fd in use so no dup2 overwrites a later source.
  int base = std::max(write_end.get(), scoreboard_.fd());
  for (const Listener& l : listeners_) base = std::max(base, l.fd.get());
  base += 1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  Config worker_config = config_;
  worker_config.worker_listen_fds.clear();
  for (size_t i = 0; i < listeners_.size(); ++i) {
    posix_spawn_file_actions_adddup2(&actions, listeners_[i].fd.get(), base + static_cast<int>(i));
    worker_config.worker_listen_fds.push_back(base + static_cast<int>(i));
  }
  int ready_fd = base + static_cast<int>(listeners_.size());
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), ready_fd);
  worker_config.worker_ready_fd = ready_fd;
  worker_config.worker_scoreboard_fd = ready_fd + 1;
  posix_spawn_file_actions_adddup2(&actions, scoreboard_.fd(), ready_fd + 1);
  worker_config.worker_id = id;
  scoreboard_.Reset(id - 1, NowNs());

  // posix_spawn runs no code in the child: reset the mask and dispositions explicitly, or
  // the signals the master takes through signalfd would stay blocked in the worker.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : kHandledSignals) sigaddset(&defaults, s);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = ToArgs(worker_config);
  args.insert(args.begin(), worker_path_);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [name, value] : config_.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, worker_path_.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::FromErrno("cannot start " + worker_path_, rc);
  *ready_read_end = std::move(read_end);
  return pid;
}

int Supervisor::NextId() const {
  // The smallest id not in use: ids are stable slots, reused after a worker leaves.
  for (int id = 1;; ++id) {
    bool used = false;
    for (const auto& [pid, w] : workers_) used |= w.id == id;
    if (!used) return id;
  }
}

void Supervisor::SpawnWorker() {
  Worker w;
  w.id = NextId();
  if (w.id > scoreboard_.slots()) {
    Log(LogLevel::kError) << "no free scoreboard slot (--max-workers " << config_.max_workers
                          << "); not starting another worker";
    return;
  }
  auto pid = Spawn(w.id, &w.ready_pipe);
  if (!pid.ok()) {
    Log(LogLevel::kError) << pid.status().message();
    ++consecutive_failures_;
    next_spawn_ns_ = NowNs() + kNsPerSec;
    return;
  }
  w.pid = *pid;
  w.generation = generation_;
  w.started_ns = NowNs();
  if (config_.max_requests > 0) {
    // Jitter spreads the recycling so the workers do not all restart at once.
    jitter_state_ = jitter_state_ * 6364136223846793005ull + 1442695040888963407ull +
                    static_cast<uint64_t>(w.started_ns);
    uint64_t span = static_cast<uint64_t>(config_.max_requests_jitter) + 1;
    w.request_limit = static_cast<uint64_t>(config_.max_requests) + (jitter_state_ >> 33) % span;
  }
  Log(LogLevel::kDebug) << "spawned worker " << w.id << " (pid " << w.pid << ")";
  workers_.emplace(w.pid, std::move(w));
}

void Supervisor::CheckReadyPipes(int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<pid_t> pids;
  fds.push_back({signal_fd_.get(), POLLIN, 0});
  pids.push_back(0);
  for (auto& [pid, w] : workers_) {
    if (w.state == WorkerState::kStarting && w.ready_pipe.valid()) {
      fds.push_back({w.ready_pipe.get(), POLLIN, 0});
      pids.push_back(pid);
    }
  }
  if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
  for (size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    Worker& w = workers_[pids[i]];
    char buf[16];
    ssize_t n = ::read(w.ready_pipe.get(), buf, sizeof buf);
    w.ready_pipe.reset();
    if (n > 0) {
      w.state = WorkerState::kReady;
      Log(LogLevel::kInfo) << "worker " << w.id << " (pid " << w.pid << ") ready";
    }
    // EOF without the ready line: the worker is exiting; Reap() will see why.
  }
}

void Supervisor::Reap() {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto it = workers_.find(pid);
    if (it == workers_.end()) continue;  // an orphan we adopted as PID 1
    Worker w = std::move(it->second);
    workers_.erase(it);
    if (w.abort_sent_ns != 0) {
      // Killed by the timeout ladder: replaced at once, not a crash loop.
      Log(LogLevel::kError) << "worker " << w.id << " (pid " << pid
                            << ") killed after a timeout: " << DescribeExit(status);
      continue;
    }
    bool expected = w.state == WorkerState::kDraining;
    LogLevel level = expected ? LogLevel::kInfo : LogLevel::kError;
    Log(level) << "worker " << w.id << " (pid " << pid << ") exited: " << DescribeExit(status);
    if (expected) continue;
    bool before_ready = w.state == WorkerState::kStarting;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (booting_ && before_ready) {
      boot_failure_code_ = code == 0 ? 1 : code;
      continue;
    }
    if (before_ready && w.generation == generation_ && generation_ > 1 &&
        code == kWorkerAppLoadError) {
      // A reload whose code does not import: keep the running generation.
      Log(LogLevel::kError) << "reload failed: the new application could not be loaded; "
                               "the previous generation keeps serving";
      --generation_;
      for (auto& [other_pid, other] : workers_) {
        if (other.generation > generation_) {
          ::kill(other_pid, SIGKILL);
          other.state = WorkerState::kDraining;
        }
      }
      continue;
    }
    if (before_ready || NowNs() - w.started_ns < kCrashWindowNs) {
      ++consecutive_failures_;
    } else {
      consecutive_failures_ = 0;
    }
    if (consecutive_failures_ > 0) {
      int64_t delay = std::min<int64_t>(kMaxBackoffNs,
                                        (kNsPerSec / 10) << std::min(consecutive_failures_, 10));
      next_spawn_ns_ = NowNs() + delay;
      Log(LogLevel::kWarning) << "worker crash loop (" << consecutive_failures_
                              << " in a row): next start in "
                              << static_cast<double>(delay) / kNsPerSec << " s";
    }
  }
}

WorkerObservation Supervisor::Observe(int id) {
  WorkerSlot& slot = scoreboard_.slot(id - 1);
  WorkerObservation observation;
  // Values from shared memory are the worker's word only: clamp them to what can be true.
  int64_t now = NowNs();
  observation.heartbeat_ns = std::min(slot.heartbeat_ns.load(std::memory_order_relaxed), now);
  for (int t = 0; t < config_.threads; ++t) {
    ThreadActivity activity = Scoreboard::Read(slot.thread[t]);
    activity.request_start_ns = std::min(activity.request_start_ns, now);
    observation.threads.push_back(std::move(activity));
  }
  return observation;
}

void Supervisor::CheckTimeouts() {
  int64_t now = NowNs();
  int64_t grace = static_cast<int64_t>(config_.abort_grace * 1e9);
  for (auto& [pid, w] : workers_) {
    if (w.abort_sent_ns != 0) {
      if (!w.kill_sent && now - w.abort_sent_ns >= grace) {
        ::kill(pid, SIGKILL);
        w.kill_sent = true;
      }
      continue;
    }
    if (w.state == WorkerState::kStarting) continue;  // the boot timeout's business
    FreezeVerdict verdict = JudgeWorker(Observe(w.id), now, timeout_policy_);
    if (!verdict.frozen()) continue;
    Log(LogLevel::kCritical) << "WORKER TIMEOUT: worker " << w.id << " (pid " << pid
                             << ") is frozen: " << verdict.detail
                             << "; dumping its stacks (SIGABRT), then SIGKILL";
    ::kill(pid, SIGABRT);
    w.abort_sent_ns = now;
  }
}

void Supervisor::Signal(int sig, bool only_current_generation) {
  for (auto& [pid, w] : workers_)
    if (!only_current_generation || w.generation == generation_) ::kill(pid, sig);
}

int Supervisor::LiveCurrentWorkers() const {
  int n = 0;
  for (const auto& [pid, w] : workers_)
    n += !Retiring(w) && w.state != WorkerState::kDraining && w.abort_sent_ns == 0;
  return n;
}

void Supervisor::Adjust() {
  int64_t now = NowNs();
  // Boot timeout for workers started later.
  for (auto& [pid, w] : workers_) {
    if (w.state == WorkerState::kStarting && now - w.started_ns > kBootTimeoutNs) {
      Log(LogLevel::kError) << "worker " << w.id << " did not boot in time; killing it";
      ::kill(pid, SIGKILL);
    }
  }
  int live = LiveCurrentWorkers();
  if (live < desired_workers_ && now >= next_spawn_ns_) {
    for (int i = live; i < desired_workers_; ++i) SpawnWorker();
  }
  auto serving = [](const Worker& w) {
    return w.state != WorkerState::kDraining && w.abort_sent_ns == 0;
  };
  // Too many: drain the newest surplus workers.
  while (LiveCurrentWorkers() > desired_workers_) {
    Worker* victim = nullptr;
    for (auto& [pid, w] : workers_)
      if (!Retiring(w) && serving(w) && (victim == nullptr || w.started_ns > victim->started_ns))
        victim = &w;
    victim->state = WorkerState::kDraining;
    ::kill(victim->pid, SIGTERM);
  }
  // Rolling replacement (reload, --max-requests): each ready replacement retires one
  // leaving worker, so capacity never dips below the desired count.
  int ready = 0;
  int retiring = 0;
  for (auto& [pid, w] : workers_) {
    ready += !Retiring(w) && serving(w) && w.state == WorkerState::kReady;
    retiring += Retiring(w) && serving(w);
  }
  for (auto& [pid, w] : workers_) {
    if (retiring == 0 || ready + retiring <= desired_workers_) break;
    if (Retiring(w) && serving(w)) {
      w.state = WorkerState::kDraining;
      ::kill(pid, SIGTERM);
      --retiring;
    }
  }
}

void Supervisor::CheckRecycling() {
  for (auto& [pid, w] : workers_) {
    if (w.request_limit == 0 || w.recycle || w.state != WorkerState::kReady) continue;
    uint64_t served = scoreboard_.slot(w.id - 1).requests.load(std::memory_order_relaxed);
    if (served < w.request_limit) continue;
    Log(LogLevel::kInfo) << "worker " << w.id << " (pid " << pid << ") served " << served
                         << " requests (--max-requests): replacing it";
    w.recycle = true;
  }
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
  std::string path = config_.pidfile + (::getenv("WSGID_REEXEC") != nullptr ? ".2" : "");
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    Log(LogLevel::kError) << "cannot write pid file " << tmp << ": " << std::strerror(errno);
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

void Supervisor::StopAll(bool graceful) {
  Signal(graceful ? SIGTERM : SIGQUIT);
  for (auto& [pid, w] : workers_) w.state = WorkerState::kDraining;
  int64_t deadline =
      NowNs() + (graceful ? static_cast<int64_t>(config_.graceful_timeout * 1e9) + kNsPerSec
                          : kNsPerSec);
  while (!workers_.empty() && NowNs() < deadline) {
    ::usleep(20000);
    Reap();
  }
  if (!workers_.empty()) {
    Signal(SIGKILL);
    while (!workers_.empty()) {
      int status;
      pid_t pid = ::waitpid(-1, &status, 0);
      if (pid < 0) break;
      workers_.erase(pid);
    }
  }
}

int Supervisor::Run() {
  Log(LogLevel::kInfo) << "wsgid " << WSGID_VERSION << " serving " << config_.app << " with "
                       << desired_workers_ << " worker(s) x " << config_.threads
                       << " thread(s)";
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
          return kExitOk;
        case SIGINT:
        case SIGQUIT:
          Log(LogLevel::kInfo) << "fast stop requested";
          Notify("STOPPING=1");
          StopAll(/*graceful=*/false);
          RemovePidFile();
          return kExitOk;
        case SIGHUP: {
          timespec now;
          ::clock_gettime(CLOCK_MONOTONIC, &now);
          Notify("RELOADING=1\nMONOTONIC_USEC=" +
                 std::to_string(now.tv_sec * 1000000ll + now.tv_nsec / 1000));
          Reload();
          Notify("READY=1");
          break;
        }
        case SIGTTIN:
          workers_changed_at_run_time_ = true;
          desired_workers_ = std::min(desired_workers_ + 1, config_.max_workers);
          Log(LogLevel::kInfo) << "workers: " << desired_workers_;
          break;
        case SIGTTOU:
          workers_changed_at_run_time_ = true;
          desired_workers_ = std::max(desired_workers_ - 1, 1);
          Log(LogLevel::kInfo) << "workers: " << desired_workers_;
          break;
        case SIGUSR1: {
          auto level = ParseLogLevel(config_.log_level);
          (void)OpenErrorLog(config_.error_logfile, level.ok() ? *level : LogLevel::kInfo);
          Signal(SIGUSR1);
          break;
        }
        default:
          break;
      }
    }
    Reap();
    CheckTimeouts();
    CheckRecycling();
    Adjust();
  }
}

}  // namespace wsgid
