// WorkerProcesses: the WorkerPool's ProcessControl on the real OS. Spawns
// wsgid-worker in a scoreboard slot with the listeners (process_spawner.h),
// keeps the read end of each starting worker's ready pipe for the loop to
// poll, signals only the pids it spawned (never one read from shared memory),
// and reads the workers' reports through WorkerSlots.
//
// Loop thread only (the pool calls it from the loop). It reads the running
// configuration through `config` at each spawn, so workers started after a
// reload get the new settings. Does not own what it is given.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/unique_fd.h"
#include "daemon/listener_set.h"
#include "daemon/master_hooks.h"
#include "daemon/worker_pool.h"
#include "daemon/worker_slots.h"
#include "daemon/zygote_processes.h"

namespace wsgid {

class WorkerProcesses : public ProcessControl {
 public:
  // The clock its reports are clamped to (MonotonicNs in the daemon).
  using Clock = int64_t (*)();

  WorkerProcesses(std::string worker_path, const Config* config,
                  const ListenerSet* listeners, WorkerSlots* slots,
                  Clock clock);

  // --preload (issue 16): new workers of a generation fork from its ready
  // zygote while config->preload is on. Not owned; both outlive this.
  void UsePreload(Preloader* preloader, ZygoteProcesses* zygotes) {
    preloader_ = preloader;
    zygotes_ = zygotes;
  }

  // ProcessControl.
  StatusOr<pid_t> Spawn(int id, int generation) override;
  std::vector<StatusOr<Started>> SpawnBatch(const std::vector<int>& ids,
                                            int generation) override;
  bool CanSpawn(int generation) override;
  void Signal(pid_t pid, int sig) override;
  WorkerObservation Observe(int id) override;
  uint64_t RequestsServed(int id) override;
  int64_t ResidentMemory(pid_t pid) override;

  // The ready pipes of the workers still starting, by pid.
  const std::map<pid_t, UniqueFd>& ready_pipes() const { return ready_pipes_; }
  // Reads the readable ready pipe of `pid` and forgets it; when the line
  // arrived, the time it says the worker was ready, clamped to the clock
  // (nullopt at EOF: the worker is exiting, and reaping it will tell why).
  std::optional<int64_t> TakeReadyLine(pid_t pid);
  // `pid` was reaped.
  void Forget(pid_t pid) { ready_pipes_.erase(pid); }
  // pre_fork before each spawn, and the worker's age on its command line
  // (null: none). REQUIRES: `hooks` outlives this.
  void SetHooks(MasterHooks* hooks) { hooks_ = hooks; }

 private:
  std::string worker_path_;
  const Config* config_;
  const ListenerSet* listeners_;
  WorkerSlots* slots_;
  Clock clock_;
  MasterHooks* hooks_ = nullptr;
  // Spawns wsgid-worker for slot `id` (no preload); `age` from pre_fork.
  StatusOr<pid_t> SpawnPlain(int id, int age);
  // Workers forked by their generation's ready zygote, one result per
  // request; empty when there is none. A fork that failed (logged, and the
  // zygote is replaced) leaves its slot to a spawn without preload (nullopt).
  std::vector<std::optional<Started>> ForkFromZygote(
      const std::vector<ZygoteProcesses::ForkRequest>& requests,
      int generation);

  std::map<pid_t, UniqueFd> ready_pipes_;  // read ends
  Preloader* preloader_ = nullptr;
  ZygoteProcesses* zygotes_ = nullptr;
};

}  // namespace wsgid
