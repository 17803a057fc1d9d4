#include "daemon/start_modes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/status_codes.h"

namespace wsgid {

Status CheckAppImport(const Config& config, const std::string& worker_path) {
  Config check = config;
  check.worker_check_app = true;
  std::vector<std::string> args = ToArgs(check, Needs::kWorker);
  args.insert(args.begin(), worker_path);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    ::execv(worker_path.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  Status app_load = Status::Error(StatusCode::kAppLoad, "");
  if (WIFEXITED(status) &&
      WEXITSTATUS(status) == ExitCodeFor(Program::kWorker, app_load))
    return Status::Error(StatusCode::kAppLoad,
                         "the application " + config.app +
                             " cannot be imported (the traceback is above)");
  return Status::Unavailable("the import check's worker failed (status " +
                             std::to_string(status) + ")");
}

Status Daemonize() {
  for (int round = 0; round < 2; ++round) {
    pid_t pid = ::fork();
    if (pid < 0) return Status::FromErrno("fork", errno);
    if (pid > 0) ::_exit(0);
    if (round == 0 && ::setsid() < 0) return Status::FromErrno("setsid", errno);
  }
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return Status::FromErrno("/dev/null", errno);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
  ::close(null);
  return Status::Ok();
}

}  // namespace wsgid
