#include "daemon/worker_processes.h"

#include <signal.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/proc_stats.h"
#include "daemon/process_spawner.h"

namespace wsgid {

WorkerProcesses::WorkerProcesses(std::string worker_path, const Config* config,
                                 const ListenerSet* listeners,
                                 WorkerSlots* slots, Clock clock)
    : worker_path_(std::move(worker_path)),
      config_(config),
      listeners_(listeners),
      slots_(slots),
      clock_(clock) {}

StatusOr<pid_t> WorkerProcesses::Spawn(int id, int generation) {
  slots_->Claim(id, clock_(), config_->threads);
  int age = hooks_ != nullptr ? hooks_->PreFork() : 0;
  if (std::optional<pid_t> forked = ForkFromZygote(id, generation))
    return *forked;
  bool pass_age = hooks_ != nullptr && hooks_->enabled();
  Config with_age;  // hooks only: the worker's worker.age
  if (pass_age) {
    with_age = *config_;
    with_age.worker_age = age;
  }
  auto spawned = SpawnWorker(worker_path_, pass_age ? with_age : *config_, id,
                             listeners_->fds(), slots_->fd());
  if (!spawned.ok()) return spawned.status();
  if (hooks_ != nullptr) hooks_->Forked(spawned->pid, age);
  ready_pipes_[spawned->pid] = std::move(spawned->ready_pipe);
  return spawned->pid;
}

bool WorkerProcesses::CanSpawn(int generation) {
  if (preloader_ == nullptr || !config_->preload) return true;
  return preloader_->Route(generation, clock_()) != SpawnRoute::kWait;
}

std::optional<pid_t> WorkerProcesses::ForkFromZygote(int id, int generation) {
  if (preloader_ == nullptr || !config_->preload) return std::nullopt;
  pid_t zygote = preloader_->ReadyZygote(generation);
  if (zygote == 0) return std::nullopt;
  auto forked = zygotes_->Fork(zygote, id);
  if (!forked.ok()) {
    Log(LogLevel::kError) << forked.status().message() << "; worker " << id
                          << " starts without preload";
    preloader_->OnForkFailed(zygote, clock_());
    return std::nullopt;
  }
  ready_pipes_[forked->pid] = std::move(forked->ready_pipe);
  return forked->pid;
}

void WorkerProcesses::Signal(pid_t pid, int sig) { ::kill(pid, sig); }

WorkerObservation WorkerProcesses::Observe(int id) {
  return slots_->Observe(id, clock_());
}

uint64_t WorkerProcesses::RequestsServed(int id) {
  return slots_->RequestsServed(id);
}

int64_t WorkerProcesses::ResidentMemory(pid_t pid) {
  // /proc of our own child: the kernel's figure, not the scoreboard's. With
  // --preload, the worker's unshared memory (USS): its RSS counts every page
  // it shares with the zygote and its siblings, and its PSS a share of them
  // that grows as siblings exit; neither is what it added or what replacing
  // it would free.
  return config_->preload ? UnsharedBytes(pid) : ResidentBytes(pid);
}

bool WorkerProcesses::TakeReadyLine(pid_t pid) {
  auto it = ready_pipes_.find(pid);
  if (it == ready_pipes_.end()) return false;
  char buf[16];
  ssize_t n = ::read(it->second.get(), buf, sizeof buf);
  ready_pipes_.erase(it);
  return n > 0;
}

}  // namespace wsgid
