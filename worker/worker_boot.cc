#include "worker/worker_boot.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/clock.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/privileges.h"
#include "common/tls_settings.h"
#include "worker/process_logs.h"
#include "worker/python_app.h"
#include "worker/zygote.h"

namespace wsgid {
namespace {

// A boot step's failure, whatever code the step gave it, so that it exits 3
// (boot failure) and never 2 (bad command line) or 4 (app not importable).
Status AsBootFailure(const Status& status) {
  if (status.ok()) return status;
  return Status::Unavailable(status.message());
}

// The master's HTTP library accepts without close-on-exec, so a control or ops
// connection open while a worker starts would leak into it (and keep the
// client's socket open): close every descriptor the master did not hand over on
// purpose.
void CloseInheritedFds(const Config& config) {
  std::vector<int> keep = config.worker_listen_fds;
  keep.push_back(config.worker_ready_fd);
  keep.push_back(config.worker_scoreboard_fd);
  std::sort(keep.begin(), keep.end());
  unsigned int next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned int>(fd) > next)
      ::close_range(next, static_cast<unsigned int>(fd) - 1, 0);
    next = static_cast<unsigned int>(fd) + 1;
  }
  if (config.worker_ready_fd >= 0) ::close_range(next, ~0u, 0);
}

}  // namespace

WorkerBoot::WorkerBoot(Config config) : config_(std::move(config)) {}

WorkerBoot::~WorkerBoot() = default;

Status WorkerBoot::PrepareProcess() {
  CloseInheritedFds(config_);
  Status s = OpenLogs();
  if (s.ok() && ::getppid() == 1 && config_.worker_ready_fd >= 0)
    s = Status::Unavailable("master is gone");
  if (!s.ok()) return AsBootFailure(s);
  SetProcessLimits();
  for (const auto& [name, value] : config_.env)
    ::setenv(name.c_str(), value.c_str(), 1);
  s = EnterWorkingDirectory();
  if (s.ok()) s = OpenOwnListeners();
  if (s.ok()) s = AttachScoreboard();
  if (s.ok()) s = LoadTls();
  if (s.ok()) s = DropIdentity();
  return AsBootFailure(s);
}

Status WorkerBoot::LoadTls() {
  bool any = false;
  for (int fd : listen_fds_)
    any = any || ListenerUsesTls(fd, TlsEnabled(config_), config_.binds);
  if (!any) {
    TlsContext::DiscardTicketSeed();
    return Status::Ok();
  }
  auto context = TlsContext::Create(config_);
  if (!context.ok()) return context.status();
  tls_context_ = std::move(context).value();
  return Status::Ok();
}

Status WorkerBoot::OpenLogs() {
  if (Status s = OpenProcessErrorLog(config_, config_.worker_zygote
                                                  ? ProcessKind::kPreload
                                                  : ProcessKind::kWorker);
      !s.ok())
    return s;
  SetLogWorkerId(config_.worker_id);
  // Before the stdio relay starts: it keeps the syslog sink's descriptor.
  if (Status s = OpenSyslog(); !s.ok()) return s;
  return CaptureStdioIntoErrorLog(config_);
}

Status WorkerBoot::OpenSyslog() {
  if (!config_.syslog) return Status::Ok();
  auto sink = SyslogSink::Open(config_.syslog_addr, config_.syslog_facility,
                               config_.syslog_prefix);
  if (!sink.ok()) return sink.status();
  syslog_ = std::move(sink).value();
  SetErrorSyslog(syslog_.get());
  return Status::Ok();
}

void WorkerBoot::SetProcessLimits() {
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
      nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
}

Status WorkerBoot::EnterWorkingDirectory() {
  if (config_.chdir.empty() || ::chdir(config_.chdir.c_str()) == 0)
    return Status::Ok();
  return Status::Unavailable("cannot chdir to " + config_.chdir + ": " +
                             std::strerror(errno));
}

Status WorkerBoot::OpenOwnListeners() {
  listen_fds_ = config_.worker_listen_fds;
  // --worker-check-app only imports the app: no socket.
  if (!listen_fds_.empty() || config_.worker_check_app) return Status::Ok();
  // Standalone: bind what -b says.
  if (config_.binds.empty()) config_.binds.push_back("127.0.0.1:8000");
  for (const std::string& bind : config_.binds) {
    auto address = ParseBindAddress(bind);
    if (!address.ok()) return address.status();
    auto fd = OpenListener(*address, config_.backlog);
    if (!fd.ok()) return fd.status();
    listen_fds_.push_back(fd->get());
    own_listeners_.push_back(std::move(fd).value());
  }
  return Status::Ok();
}

Status WorkerBoot::AttachScoreboard() {
  // A frozen worker is sent SIGABRT to dump its Python stacks; a core dump
  // would only delay its replacement.
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  if (config_.worker_scoreboard_fd < 0) return Status::Ok();
  auto attached = Scoreboard::Attach(config_.worker_scoreboard_fd);
  if (!attached.ok()) return attached.status();
  scoreboard_ = std::move(attached).value();
  if (config_.worker_zygote) return Status::Ok();  // it has no slot
  return AttachSlot();
}

Status WorkerBoot::AttachSlot() {
  if (config_.worker_id < 1 || config_.worker_id > scoreboard_.slots())
    return Status::Unavailable("worker id out of the scoreboard's range");
  slot_ = &scoreboard_.slot(config_.worker_id - 1);
  // Counted in the slot, which the master sums (and folds into its retired
  // totals when this worker exits) for the statsd gunicorn.log.* counters.
  SetLogCounters(slot_->log_records);
  return Status::Ok();
}

Status WorkerBoot::DropIdentity() {
  ::umask(static_cast<mode_t>(config_.umask));
  auto identity = ResolveIdentity(config_.user, config_.group);
  if (!identity.ok()) return identity.status();
  return DropPrivileges(*identity);
}

Status WorkerBoot::StartApplication() {
  if (Status s = LoadApp(); !s.ok()) return s;
  // --preload: the zygote returns from here only in a forked worker, which
  // goes on through the same steps as a spawned one.
  if (config_.worker_zygote)
    if (Status s = ServeAsZygote(); !s.ok()) return s;
  return StartServer();
}

Status WorkerBoot::LoadApp() {
  if (Status s = StartInterpreter(config_.virtualenv); !s.ok())
    return AsBootFailure(s);
  if (Status s = LoadHooks(); !s.ok()) return s;
  // A zygote's workers run post_fork after their fork (ServeAsZygote).
  if (!config_.worker_zygote)
    if (Status s = AfterWorkerProcessExists(); !s.ok()) return s;
  auto app = LoadApplication(config_);
  if (!app.ok()) return app.status();  // kAppLoad: the master reads its exit
  app_ = *app;
  return Status::Ok();
}

Status WorkerBoot::ServeAsZygote() {
  ForkOrder order = RunZygote(config_.worker_ready_fd, !config_.no_gc_freeze);
  // A forked worker from here on: its own slot and ready pipe.
  config_.worker_zygote = false;
  config_.worker_id = order.id;
  config_.worker_age = order.age;
  config_.worker_ready_fd = order.ready_fd;
  // The error log again by its path: the zygote's descriptor may name a file
  // rotated away since. The zygote's reopeners are not this process's: one
  // would signal the zygote's stdio relay (by its pid, which may be reused
  // once the zygote is gone) on each USR1. OpenLogs adds this worker's own.
  ClearLogReopeners();
  Status s = OpenLogs();
  if (s.ok()) s = AttachSlot();
  if (!s.ok()) return AsBootFailure(s);
  return AfterWorkerProcessExists();  // post_fork runs in the forked worker
}

Status WorkerBoot::StartServer() {
  AfterAppLoaded(app_);
  handler_ = std::make_unique<WsgiHandler>(config_, app_, listen_fds_);
  if (Status s = handler_->Init(); !s.ok()) return AsBootFailure(s);
  handler_->SetHooks(hooks_.get());
  server_ = std::make_unique<Server>(config_, listen_fds_, handler_.get(),
                                     slot_, std::move(tls_context_));
  if (Status s = server_->Init(); !s.ok()) return AsBootFailure(s);
  server_->SetLifeHooks(hooks_.get());
  PyEval_SaveThread();  // app threads take the GIL when they need it
  return Status::Ok();
}

Status WorkerBoot::LoadHooks() {
  auto hooks = ServerHooks::Load(config_);
  if (!hooks.ok()) return hooks.status();  // kAppLoad, with the traceback
  hooks_ = std::move(hooks).value();
  return Status::Ok();
}

Status WorkerBoot::AfterWorkerProcessExists() {
  return hooks_ != nullptr
             ? hooks_->AfterWorkerProcessExists(config_.worker_age)
             : Status::Ok();
}

void WorkerBoot::AfterAppLoaded(PyObject* app) {
  if (hooks_ != nullptr) hooks_->AfterAppLoaded(app);
}

int WorkerBoot::Serve() {
  if (config_.worker_ready_fd >= 0) {
    // With the time it is ready: the master may read the line later (it
    // waits for a batch of forks), and "ready in" is this worker's own.
    bool told = WriteAll(config_.worker_ready_fd,
                         "ready " + std::to_string(MonotonicNs()) + "\n");
    ::close(config_.worker_ready_fd);
    if (!told) {
      // The master closed the pipe: it gave up on this worker (a preload
      // fork whose answer never reached it) and would never supervise it.
      Log(LogLevel::kError) << "worker (pid " << ::getpid()
                            << ") not serving: the master is not waiting "
                               "for it (its ready pipe is closed)";
      return 1;
    }
  }
  Log(LogLevel::kInfo) << "Booting worker with pid: " << ::getpid();
  return server_->RunMainLoop();
}

}  // namespace wsgid
