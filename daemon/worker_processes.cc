#include "daemon/worker_processes.h"

#include <signal.h>
#include <unistd.h>

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

StatusOr<pid_t> WorkerProcesses::Spawn(int id) {
  slots_->Claim(id, clock_(), config_->threads);
  int age = hooks_ != nullptr ? hooks_->PreFork() : 0;
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

void WorkerProcesses::Signal(pid_t pid, int sig) { ::kill(pid, sig); }

WorkerObservation WorkerProcesses::Observe(int id) {
  return slots_->Observe(id, clock_());
}

uint64_t WorkerProcesses::RequestsServed(int id) {
  return slots_->RequestsServed(id);
}

int64_t WorkerProcesses::ResidentMemory(pid_t pid) {
  // /proc/PID/statm of our own child: the kernel's figure, not the
  // scoreboard's.
  return ResidentBytes(pid);
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
