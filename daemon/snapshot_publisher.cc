#include "daemon/snapshot_publisher.h"

#include <utility>

namespace wsgid {

void DescribePool(const WorkerPool& pool, PoolSnapshot* s) {
  s->desired = pool.desired();
  s->generation = pool.generation();
  for (const auto& [pid, w] : pool.workers())
    s->workers.push_back({w.id, pid, w.generation, w.public_state()});
  s->spawns = pool.spawns();
  s->exits = pool.exits();
  s->reloads_ok = pool.reloads_ok();
  s->reloads_failed = pool.reloads_failed();
}

void SnapshotPublisher::Publish(PoolSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = std::move(snapshot);
}

PoolSnapshot SnapshotPublisher::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

}  // namespace wsgid
