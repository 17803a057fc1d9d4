// ControlBackend: what the ops port and the control API may ask of the
// supervisor, from their own threads. Reads come from the snapshot the loop
// publishes and from the scoreboard; changes are posted to the loop, which
// applies them between its other events, so the pool is only ever touched by
// the loop's thread. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/pool_snapshot.h"

namespace wsgid {

// A change asked for through the control API.
struct Command {
  enum class Kind {
    kScale,
    kThreads,
    kReload,
    kRestartWorker,
    kKillWorker,
    kStop,
    kAutoscale
  };
  Kind kind;
  int value = 0;         // workers, threads, worker id
  bool graceful = true;  // kStop
  int enabled = -1;      // kAutoscale: 1 on, 0 off, -1 unchanged
  int min = 0;           // kAutoscale: worker bounds, 0 unchanged
  int max = 0;
};

struct CommandResult {
  int status = 200;    // HTTP status for the answer
  std::string error;   // short error code when status >= 400
  std::string detail;  // human-readable
  int value = 0;       // the resulting count, generation or id
};

class ControlBackend {
 public:
  virtual ~ControlBackend() = default;
  virtual PoolSnapshot Snapshot() = 0;
  virtual RequestTotals Totals() = 0;
  // The live scoreboard slot of worker `id` (1-based), for its threads and
  // heartbeat.
  virtual const WorkerSlot* Slot(int id) = 0;
  // Applies a change on the supervisor loop and returns its outcome (blocks
  // until then; through the CommandQueue, command_queue.h: 503 when the loop
  // does not take it within 30 s or is shutting down).
  virtual CommandResult Execute(const Command& command) = 0;
};

}  // namespace wsgid
