// LoopBackend: the ControlBackend the ops port and the control API are given.
// Reads come from the snapshot the supervisor loop publishes and from the
// scoreboard (lock-free); changes are posted to the loop through the command
// queue. So the HTTP threads never reach the loop's own objects (the pool, the
// configuration). Thread-safe; does not own its sources, which must outlive
// the servers that call it.
#pragma once

#include "daemon/command_queue.h"
#include "daemon/control_backend.h"
#include "daemon/snapshot_publisher.h"
#include "daemon/worker_slots.h"

namespace wsgid {

class LoopBackend : public ControlBackend {
 public:
  LoopBackend(const SnapshotPublisher* snapshots, WorkerSlots* slots,
              CommandQueue* commands)
      : snapshots_(snapshots), slots_(slots), commands_(commands) {}

  PoolSnapshot Snapshot() override { return snapshots_->Latest(); }
  RequestTotals Totals() override { return slots_->Totals(); }
  const WorkerSlot* Slot(int id) override { return slots_->Find(id); }
  CommandResult Execute(const Command& command) override {
    return commands_->Post(command);
  }

 private:
  const SnapshotPublisher* snapshots_;
  WorkerSlots* slots_;
  CommandQueue* commands_;
};

}  // namespace wsgid
