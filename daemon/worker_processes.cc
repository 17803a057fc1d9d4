#include "daemon/worker_processes.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

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
  auto batch = SpawnBatch({id}, generation);
  if (!batch[0].ok()) return batch[0].status();
  return batch[0]->pid;
}

std::vector<StatusOr<ProcessControl::Started>> WorkerProcesses::SpawnBatch(
    const std::vector<int>& ids, int generation) {
  std::vector<ZygoteProcesses::ForkRequest> requests;
  for (int id : ids) {
    slots_->Claim(id, clock_(), config_->threads);
    requests.push_back({id, hooks_ != nullptr ? hooks_->PreFork() : 0});
  }
  std::vector<std::optional<Started>> forked =
      ForkFromZygote(requests, generation);
  std::vector<StatusOr<Started>> results;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i < forked.size() && forked[i]) {
      // child_exit and worker_exit in the master need its age, as for a spawn
      if (hooks_ != nullptr) hooks_->Forked(forked[i]->pid, requests[i].age);
      results.push_back(*forked[i]);
      continue;
    }
    auto pid = SpawnPlain(ids[i], requests[i].age);
    if (pid.ok())
      results.push_back(Started{*pid, 0});
    else
      results.push_back(pid.status());
  }
  return results;
}

StatusOr<pid_t> WorkerProcesses::SpawnPlain(int id, int age) {
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

std::vector<std::optional<ProcessControl::Started>>
WorkerProcesses::ForkFromZygote(
    const std::vector<ZygoteProcesses::ForkRequest>& requests, int generation) {
  std::vector<std::optional<Started>> results;
  if (preloader_ == nullptr || !config_->preload) return results;
  pid_t zygote = preloader_->ReadyZygote(generation);
  if (zygote == 0) return results;
  bool failed = false;
  auto forked = zygotes_->ForkBatch(zygote, requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!forked[i].ok()) {
      Log(LogLevel::kError) << forked[i].status().message() << "; worker "
                            << requests[i].id << " starts without preload";
      failed = true;
      results.push_back(std::nullopt);
      continue;
    }
    ready_pipes_[forked[i]->pid] = std::move(forked[i]->ready_pipe);
    results.push_back(Started{forked[i]->pid, forked[i]->started_ns});
  }
  if (failed) preloader_->OnForkFailed(zygote, clock_());
  return results;
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

std::optional<int64_t> WorkerProcesses::TakeReadyLine(pid_t pid) {
  auto it = ready_pipes_.find(pid);
  if (it == ready_pipes_.end()) return std::nullopt;
  char buf[64];
  ssize_t n = ::read(it->second.get(), buf, sizeof buf - 1);
  ready_pipes_.erase(it);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  // "ready <ns>\n"; the worker's word, so never later than now.
  int64_t now = clock_();
  long long said = std::strncmp(buf, "ready ", 6) == 0
                       ? std::strtoll(buf + 6, nullptr, 10)
                       : 0;
  return said > 0 && said < now ? said : now;
}

}  // namespace wsgid
