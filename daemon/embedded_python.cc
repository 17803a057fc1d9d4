#include "daemon/embedded_python.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "common/virtualenv.h"

extern char** environ;

namespace wsgid {

StatusOr<EmbeddedPython> ParseEmbeddedPython(const std::string& answer) {
  std::string line = answer.substr(0, answer.find('\n'));
  size_t space = line.find(' ');
  EmbeddedPython python;
  python.version = line.substr(0, space);
  if (space != std::string::npos) python.executable = line.substr(space + 1);
  if (MajorMinor(python.version).empty())
    return Status::Unavailable("the worker named no Python version ('" + line +
                               "')");
  return python;
}

StatusOr<EmbeddedPython> QueryEmbeddedPython(const std::string& worker_path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return Status::Unavailable(std::string("pipe: ") + std::strerror(errno));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  const char* argv[] = {worker_path.c_str(), "--python-version", nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, worker_path.c_str(), &actions, nullptr,
                         const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (rc != 0)
    return Status::Unavailable("cannot run " + worker_path + ": " +
                               std::strerror(rc));
  std::string answer;
  char buf[256];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0 ||
         (n < 0 && errno == EINTR))
    if (n > 0) answer.append(buf, static_cast<size_t>(n));
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return Status::Unavailable(worker_path +
                               " --python-version failed (is its libpython "
                               "installed?)");
  return ParseEmbeddedPython(answer);
}

Status CheckConfiguredVirtualenv(const Config& config,
                                 const std::string& worker_path) {
  if (config.virtualenv.empty()) return Status::Ok();
  auto python = QueryEmbeddedPython(worker_path);
  if (!python.ok()) return python.status();
  return CheckVirtualenv(config.virtualenv, python->version);
}

}  // namespace wsgid
