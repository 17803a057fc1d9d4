// wsgid-worker: one worker process. Started by wsgid with the listening
// sockets, a ready pipe and the configuration on its command line; can also run
// alone with -b.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/config.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/privileges.h"
#include "common/scoreboard.h"
#include "common/status_codes.h"
#include "worker/python_app.h"
#include "worker/server.h"
#include "worker/wsgi_handler.h"

namespace {

// Exit codes the master understands (as Gunicorn's worker uses them): the
// status code table's worker column.
constexpr int kExitBootError = wsgid::StatusCodeInfo(
    wsgid::StatusCode::kUnavailable).worker_exit;
constexpr int kExitAppLoadError =
    wsgid::StatusCodeInfo(wsgid::StatusCode::kAppLoad).worker_exit;

[[noreturn]] void Die(int code, const std::string& message) {
  wsgid::Log(wsgid::LogLevel::kError) << message;
  ::_exit(code);
}

// The master's HTTP library accepts without close-on-exec, so a control or ops
// connection open while a worker starts would leak into it (and keep the
// client's socket open): close every descriptor the master did not hand over on
// purpose.
void CloseInheritedFds(const wsgid::Config& config) {
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

int main(int argc, char** argv) {
  using namespace wsgid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);
  auto parsed =
      ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::fprintf(stderr, "wsgid-worker: %s\n",
                 parsed.status().message().c_str());
    return ExitCodeFor(Program::kWorker, parsed.status());
  }
  Config config = std::move(parsed).value();
  CloseInheritedFds(config);
  auto level = ParseLogLevel(config.log_level);
  if (Status s = OpenErrorLog(config.error_logfile,
                              level.ok() ? *level : LogLevel::kInfo);
      !s.ok())
    Die(kExitBootError, s.message());
  // The app's prints and stray tracebacks go to the error log too.
  ::dup2(ErrorLogFd(), STDOUT_FILENO);
  if (ErrorLogFd() != STDERR_FILENO) ::dup2(ErrorLogFd(), STDERR_FILENO);
  if (::getppid() == 1 && config.worker_ready_fd >= 0)
    Die(kExitBootError, "master is gone");

  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
      nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  for (const auto& [name, value] : config.env)
    ::setenv(name.c_str(), value.c_str(), 1);
  if (!config.chdir.empty() && ::chdir(config.chdir.c_str()) != 0)
    Die(kExitBootError,
        "cannot chdir to " + config.chdir + ": " + std::strerror(errno));

  std::vector<int> listen_fds = config.worker_listen_fds;
  std::vector<UniqueFd> own_listeners;
  if (listen_fds.empty()) {
    // Standalone: bind what -b says.
    if (config.binds.empty()) config.binds.push_back("127.0.0.1:8000");
    for (const std::string& bind : config.binds) {
      auto address = ParseBindAddress(bind);
      if (!address.ok()) Die(kExitBootError, address.status().message());
      auto fd = OpenListener(*address, config.backlog);
      if (!fd.ok()) Die(kExitBootError, fd.status().message());
      listen_fds.push_back(fd->get());
      own_listeners.push_back(std::move(fd).value());
    }
  }

  // A frozen worker is sent SIGABRT to dump its Python stacks; a core dump
  // would only delay its replacement.
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  Scoreboard scoreboard;
  WorkerSlot* slot = nullptr;
  if (config.worker_scoreboard_fd >= 0) {
    auto attached = Scoreboard::Attach(config.worker_scoreboard_fd);
    if (!attached.ok()) Die(kExitBootError, attached.status().message());
    scoreboard = std::move(attached).value();
    if (config.worker_id < 1 || config.worker_id > scoreboard.slots())
      Die(kExitBootError, "worker id out of the scoreboard's range");
    slot = &scoreboard.slot(config.worker_id - 1);
  }

  ::umask(static_cast<mode_t>(config.umask));
  auto identity = ResolveIdentity(config.user, config.group);
  if (!identity.ok()) Die(kExitBootError, identity.status().message());
  if (Status s = DropPrivileges(*identity); !s.ok())
    Die(kExitBootError, s.message());

  if (Status s = StartInterpreter(); !s.ok()) Die(kExitBootError, s.message());
  auto app = LoadApplication(config);
  if (!app.ok()) Die(kExitAppLoadError, app.status().message());
  WsgiHandler handler(config, *app, listen_fds);
  if (Status s = handler.Init(); !s.ok()) Die(kExitBootError, s.message());
  Server server(config, listen_fds, &handler, slot);
  if (Status s = server.Init(); !s.ok()) Die(kExitBootError, s.message());
  PyEval_SaveThread();  // app threads take the GIL when they need it

  if (config.worker_ready_fd >= 0) {
    WriteAll(config.worker_ready_fd, "ready\n");
    ::close(config.worker_ready_fd);
  }
  Log(LogLevel::kInfo) << "Booting worker with pid: " << ::getpid();
  int code = server.RunMainLoop();
  // Threads may still be inside the app: leave without finalising Python under
  // them.
  std::fflush(nullptr);
  ::_exit(code);
}
