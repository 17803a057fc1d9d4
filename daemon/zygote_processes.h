// ZygoteProcesses: the Preloader's ZygoteControl on the real OS (issue 16).
// Spawns `wsgid-worker --worker-zygote` like a worker (same listeners and
// scoreboard; process_spawner.h) with one end of a SOCK_SEQPACKET socket pair
// as its channel (the protocol is in worker/zygote.h), keeps the master's end
// for the loop to poll, and asks a ready zygote to fork a worker.
//
// The first zygote makes the master a child subreaper: the zygote forks each
// worker through a middle process that exits at once, so the worker becomes
// the master's child, reaped and signalled by the master like a spawned one
// (a pid the master has not reaped cannot be reused, so it never signals a
// stranger).
//
// Loop thread only. Reads the running configuration through `config` at each
// zygote start, so a reload's zygote imports the new code with the new
// settings. Does not own what it is given.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/unique_fd.h"
#include "daemon/listener_set.h"
#include "daemon/preloader.h"
#include "daemon/process_spawner.h"
#include "daemon/worker_slots.h"

namespace wsgid {

class ZygoteProcesses : public ZygoteControl {
 public:
  ZygoteProcesses(std::string worker_path, const Config* config,
                  const ListenerSet* listeners, const WorkerSlots* slots);

  // ZygoteControl.
  StatusOr<pid_t> StartZygote(int generation) override;
  void Signal(pid_t pid, int sig) override;

  // The channels of the zygotes that may still report, by pid.
  const std::map<pid_t, UniqueFd>& channels() const { return channels_; }
  // Reads one report of zygote `pid` from its readable channel; nullopt when
  // there is none to act on (at EOF the channel is forgotten: the zygote is
  // exiting, and reaping it tells why).
  std::optional<Preloader::Report> ReadReport(pid_t pid);
  // A worker to fork: its slot, and its Gunicorn worker.age (hooks).
  struct ForkRequest {
    int id = 0;
    int age = 0;
  };
  // Asks ready zygote `zygote` to fork the workers `requests`: all the
  // requests first, then the answers, so the zygote forks them back to back.
  // One result per request, in order; waits at most kForkReplyMs for each
  // answer (a fork takes milliseconds), and once one is missing counts the rest
  // as failed too (a failed one is the caller's cue to replace the zygote).
  std::vector<StatusOr<SpawnedWorker>> ForkBatch(
      pid_t zygote, const std::vector<ForkRequest>& requests);
  // `pid` was reaped.
  void Forget(pid_t pid) { channels_.erase(pid); }

  static constexpr int kForkReplyMs = 2000;

 private:
  std::string worker_path_;
  const Config* config_;
  const ListenerSet* listeners_;
  const WorkerSlots* slots_;
  bool subreaper_ = false;
  std::map<pid_t, UniqueFd> channels_;  // the master's ends
};

}  // namespace wsgid
