// WorkerSlots: the scoreboard as the master uses it. It hands a slot to each
// new worker, reads what the worker reports there (bounded: shared memory is
// the worker's word only, and app code can write anything to it), writes the
// thread target down, and keeps request totals that never go down: an exited
// worker's counters are folded into a retired total before its slot is reused.
//
// Thread safety: Claim, Retire, SetDesiredThreads, Observe, RequestsServed and
// slot() from the loop's thread; Totals() and Find() from any thread (the ops
// port and the control API).
#pragma once

#include <cstdint>
#include <mutex>
#include <set>

#include "common/scoreboard.h"
#include "common/status.h"
#include "daemon/pool_snapshot.h"
#include "daemon/timeout_policy.h"

namespace wsgid {

class WorkerSlots {
 public:
  // Owns `board`.
  explicit WorkerSlots(Scoreboard board) : board_(std::move(board)) {}

  // The memfd every worker maps.
  int fd() const { return board_.fd(); }
  int count() const { return board_.slots(); }

  // Zeroes slot `id` (1-based) for a new worker starting with `threads`
  // threads, and counts it among the live ones. REQUIRES: 1 <= id <= count().
  void Claim(int id, int64_t now_ns, int threads);
  // The worker in slot `id` exited: its counters move to the retired totals.
  void Retire(int id);
  // Every live worker's thread target (they grow or shrink in place).
  void SetDesiredThreads(int threads);

  // Heartbeat and per-thread requests of slot `id`, clamped to what can be
  // true at `now_ns`.
  WorkerObservation Observe(int id, int64_t now_ns);
  uint64_t RequestsServed(int id);
  // REQUIRES: 1 <= id <= count().
  WorkerSlot& slot(int id) { return board_.slot(id - 1); }

  // Retired totals plus the live slots' counters.
  RequestTotals Totals();
  // Slot `id`, or null outside 1..count().
  const WorkerSlot* Find(int id);

 private:
  Scoreboard board_;
  std::mutex mu_;
  RequestTotals retired_;  // guarded by mu_
  std::set<int> live_;     // guarded by mu_
};

}  // namespace wsgid
