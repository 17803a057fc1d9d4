// Starting processes with sockets handed over: wsgid-worker (posix_spawn; the
// master has threads, so it never forks without exec) and, for USR2, a new
// master from the binary on disk.
//
// A worker gets the listeners, the write end of its ready pipe and the
// scoreboard as fds above every fd in use (so no dup2 overwrites a later
// source), their numbers on its command line (ToArgs), its signal mask empty
// and the master's signals at their defaults (posix_spawn runs no code in the
// child, and what the master blocks for signalfd would stay blocked), and the
// -e values in its environment, never in its argv: any local user can read a
// process's argv (ps), only its owner the environment.
//
// A new master gets the listeners as fds 3... with LISTEN_FDS and LISTEN_PID
// (its own pid, known only after fork: the child writes it in place between
// fork and execve, where only async-signal-safe calls are allowed) and
// WSGID_REEXEC=1 (it takes <pidfile>.2).
//
// The Plan* functions are pure and unit-tested; Spawn/Start act. Call them
// from the supervisor loop's thread: PR_SET_PDEATHSIG fires when the spawning
// thread exits.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

// The fds a worker is handed, and where they land in it.
struct WorkerFds {
  std::vector<int> listeners;  // the master's listening sockets
  int ready_pipe = -1;         // write end of the worker's ready pipe
  int scoreboard = -1;         // the scoreboard memfd
};
struct FdPlacement {
  std::vector<std::pair<int, int>> dup2s;  // (source, target) in order
  std::vector<int> listen_targets;
  int ready_target = -1;
  int scoreboard_target = -1;
};
FdPlacement PlanWorkerFds(const WorkerFds& fds);

// The worker's argv: `worker_path`, then the settings of `config` with the
// worker's own (slot id, fd numbers) and without the -e values.
std::vector<std::string> PlanWorkerArgs(const std::string& worker_path,
                                        Config config, int id,
                                        const FdPlacement& placement);
// The worker's environment: the master's (`inherited`), each -e value replacing
// the inherited variable of its name.
std::vector<std::string> PlanWorkerEnvironment(
    char* const* inherited,
    const std::vector<std::pair<std::string, std::string>>& values);

// Starts wsgid-worker for slot `id` of `config`; returns its pid and the read
// end of its ready pipe.
struct SpawnedWorker {
  pid_t pid = 0;
  UniqueFd ready_pipe;
  // --preload: when the zygote began forking it (CLOCK_MONOTONIC); 0 when
  // spawned here.
  int64_t started_ns = 0;
};
StatusOr<SpawnedWorker> SpawnWorker(const std::string& worker_path,
                                    const Config& config, int id,
                                    const std::vector<int>& listen_fds,
                                    int scoreboard_fd);
// SpawnWorker with `channel_fd` handed over in place of a ready pipe's write
// end (the preload zygote's socket, issue 16); returns its pid.
StatusOr<pid_t> SpawnWorkerWithChannel(const std::string& worker_path,
                                       const Config& config, int id,
                                       const std::vector<int>& listen_fds,
                                       int scoreboard_fd, int channel_fd);

// The new master of a USR2 re-exec: `wsgid` next to `worker_path`, the same
// command line (`args`, without the program name), and the environment without
// the handover variables of an earlier one, plus LISTEN_FDS=`listeners`,
// WSGID_REEXEC=1 and LISTEN_PID=0000000000 last (the child writes its pid in
// those ten digits).
struct NewMasterPlan {
  std::string program;
  std::vector<std::string> argv;
  std::vector<std::string> env;
};
NewMasterPlan PlanNewMaster(const std::string& worker_path,
                            const std::vector<std::string>& args,
                            char* const* inherited, size_t listeners);

// Forks and execs `plan` with `listen_fds` as fds 3...; returns its pid.
StatusOr<pid_t> StartNewMaster(NewMasterPlan plan,
                               const std::vector<int>& listen_fds);

// SIGUSR2: starts the new master for this process's command line `args` and
// environment, and logs the outcome (the operator then sends TERM to this one).
void ReExecMaster(const std::string& worker_path,
                  const std::vector<std::string>& args,
                  const std::vector<int>& listen_fds);

// issue 15: starts `args[0]` with `args` and `env`, its signals reset as a
// worker's, and `dup2s` (source, target) applied in the child; returns its
// pid. For the hook helper (daemon/hook_helper.h).
StatusOr<pid_t> SpawnProgram(std::vector<std::string> args,
                             std::vector<std::string> env,
                             const std::vector<std::pair<int, int>>& dup2s);

}  // namespace wsgid
