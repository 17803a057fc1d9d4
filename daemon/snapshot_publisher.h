// SnapshotPublisher: the hand-over of the PoolSnapshot from the supervisor
// loop, which publishes one each turn, to the ops and control threads, which
// read the latest. Publish() from the loop; Latest() from any thread.
#pragma once

#include <mutex>

#include "daemon/pool_snapshot.h"
#include "daemon/worker_pool.h"

namespace wsgid {

// Fills the pool's part of a snapshot: desired count, generation, the workers
// (by their public state) and the pool's counters.
void DescribePool(const WorkerPool& pool, PoolSnapshot* snapshot);

class SnapshotPublisher {
 public:
  void Publish(PoolSnapshot snapshot);
  PoolSnapshot Latest() const;

 private:
  mutable std::mutex mu_;
  PoolSnapshot latest_;  // guarded by mu_
};

}  // namespace wsgid
