#include "daemon/process_spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/log.h"
#include "daemon/master_signals.h"

extern char** environ;

namespace wsgid {
namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn runs no code in the child: reset the mask and the dispositions
// explicitly, or the signals the master takes through signalfd would stay
// blocked in the child.
void ResetSignalsInChild(posix_spawnattr_t* attr) {
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : MasterSignals()) sigaddset(&defaults, s);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(attr, &empty);
  posix_spawnattr_setsigdefault(attr, &defaults);
  posix_spawnattr_setflags(attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

// The child of StartNewMaster, between fork and execve: async-signal-safe
// calls only. Moves the sockets above `high` first, so placing them at 3...
// never overwrites a source.
[[noreturn]] void ExecNewMaster(const char* program, char* const* argv,
                                char* const* envp, char* pid_digits,
                                std::vector<int>& fds, int high) {
  sigset_t none;
  sigemptyset(&none);
  for (int s : MasterSignals()) ::signal(s, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (size_t i = 0; i < fds.size(); ++i)
    fds[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, high + static_cast<int>(i));
  for (size_t i = 0; i < fds.size(); ++i)
    ::dup2(fds[i], 3 + static_cast<int>(i));
  pid_t me = ::getpid();
  for (int i = 9; i >= 0; --i, me /= 10)
    pid_digits[i] = static_cast<char>('0' + me % 10);
  ::execve(program, argv, envp);
  ::_exit(127);
}

}  // namespace

FdPlacement PlanWorkerFds(const WorkerFds& fds) {
  int base = std::max(fds.ready_pipe, fds.scoreboard);
  for (int fd : fds.listeners) base = std::max(base, fd);
  base += 1;
  FdPlacement p;
  for (size_t i = 0; i < fds.listeners.size(); ++i) {
    int target = base + static_cast<int>(i);
    p.dup2s.emplace_back(fds.listeners[i], target);
    p.listen_targets.push_back(target);
  }
  p.ready_target = base + static_cast<int>(fds.listeners.size());
  p.scoreboard_target = p.ready_target + 1;
  p.dup2s.emplace_back(fds.ready_pipe, p.ready_target);
  p.dup2s.emplace_back(fds.scoreboard, p.scoreboard_target);
  return p;
}

std::vector<std::string> PlanWorkerArgs(const std::string& worker_path,
                                        Config config, int id,
                                        const FdPlacement& placement) {
  config.worker_listen_fds = placement.listen_targets;
  config.worker_ready_fd = placement.ready_target;
  config.worker_scoreboard_fd = placement.scoreboard_target;
  config.worker_id = id;
  config.env.clear();  // they go to the environment
  // With server hooks, worker.cfg shows every setting: the worker gets them
  // all (it acts on its own ones only).
  std::vector<std::string> args = ToArgs(
      config, config.worker_hooks_file.empty() ? Needs::kWorker : Needs::kBoth);
  args.insert(args.begin(), worker_path);
  return args;
}

std::vector<std::string> PlanWorkerEnvironment(
    char* const* inherited,
    const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> env;
  for (char* const* e = inherited; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(
        values.begin(), values.end(),
        [name](const auto& variable) { return variable.first == name; });
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [name, value] : values) env.push_back(name + "=" + value);
  return env;
}

StatusOr<SpawnedWorker> SpawnWorker(const std::string& worker_path,
                                    const Config& config, int id,
                                    const std::vector<int>& listen_fds,
                                    int scoreboard_fd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
    return Status::FromErrno("pipe2", errno);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  auto pid = SpawnWorkerWithChannel(worker_path, config, id, listen_fds,
                                    scoreboard_fd, write_end.get());
  if (!pid.ok()) return pid.status();
  return SpawnedWorker{*pid, std::move(read_end)};
}

StatusOr<pid_t> SpawnWorkerWithChannel(const std::string& worker_path,
                                       const Config& config, int id,
                                       const std::vector<int>& listen_fds,
                                       int scoreboard_fd, int channel_fd) {
  FdPlacement placement =
      PlanWorkerFds({listen_fds, channel_fd, scoreboard_fd});
  std::vector<std::string> args =
      PlanWorkerArgs(worker_path, config, id, placement);
  std::vector<std::string> env = PlanWorkerEnvironment(::environ, config.env);
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (const auto& [source, target] : placement.dup2s)
    posix_spawn_file_actions_adddup2(&actions, source, target);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  ResetSignalsInChild(&attr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, worker_path.c_str(), &actions, &attr,
                         argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::FromErrno("cannot start " + worker_path, rc);
  return pid;
}

NewMasterPlan PlanNewMaster(const std::string& worker_path,
                            const std::vector<std::string>& args,
                            char* const* inherited, size_t listeners) {
  NewMasterPlan plan;
  plan.program = worker_path.substr(0, worker_path.rfind('/') + 1) + "wsgid";
  plan.argv = args;
  plan.argv.insert(plan.argv.begin(), plan.program);
  for (char* const* e = inherited; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("LISTEN_", 0) == 0 || entry.rfind("WSGID_REEXEC=", 0) == 0)
      continue;
    plan.env.emplace_back(entry);
  }
  plan.env.push_back("LISTEN_FDS=" + std::to_string(listeners));
  plan.env.push_back("WSGID_REEXEC=1");
  plan.env.push_back("LISTEN_PID=0000000000");
  return plan;
}

StatusOr<pid_t> StartNewMaster(NewMasterPlan plan,
                               const std::vector<int>& listen_fds) {
  // Everything the child needs is prepared before fork.
  std::vector<char*> argv = CStrings(plan.argv), envp = CStrings(plan.env);
  char* pid_digits = envp[envp.size() - 2] + std::strlen("LISTEN_PID=");
  std::vector<int> fds = listen_fds;
  int high = 3 + static_cast<int>(fds.size()) + 64;
  for (int fd : fds) high = std::max(high, fd + 1);
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0)
    ExecNewMaster(plan.program.c_str(), argv.data(), envp.data(), pid_digits,
                  fds, high);
  return pid;
}

void ReExecMaster(const std::string& worker_path,
                  const std::vector<std::string>& args,
                  const std::vector<int>& listen_fds) {
  auto pid = StartNewMaster(
      PlanNewMaster(worker_path, args, ::environ, listen_fds.size()),
      listen_fds);
  if (!pid.ok()) {
    Log(LogLevel::kError) << "USR2: " << pid.status().message();
    return;
  }
  Log(LogLevel::kInfo)
      << "USR2: started a new master (pid " << *pid
      << ") with the listening sockets; send TERM to this one (pid "
      << ::getpid() << ") once it serves";
}

StatusOr<pid_t> SpawnProgram(std::vector<std::string> args,
                             std::vector<std::string> env,
                             const std::vector<std::pair<int, int>>& dup2s) {
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (const auto& [source, target] : dup2s)
    posix_spawn_file_actions_adddup2(&actions, source, target);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  ResetSignalsInChild(&attr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0].c_str(), &actions, &attr, argv.data(),
                         envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::FromErrno("cannot start " + args[0], rc);
  return pid;
}

}  // namespace wsgid
