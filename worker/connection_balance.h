// ConnectionBalance: how many connections this worker holds against the
// master's quota for it, and which keep-alive connections to shed so that the
// workers' shares even out (the kernel's EPOLLEXCLUSIVE wake-ups favour some
// workers; see DESIGN.md "Known traps").
//
// The master computes the quota (daemon/connection_balance.h, the other half
// of this mechanism) and writes it into the worker's scoreboard slot; it trails
// a burst of new connections by a loop turn or two, so only an excess that
// lasts kShedAfterNs sheds anything. A shed connection is answered with
// Connection: close after its current response, and the client reconnects,
// usually to another worker.
//
// Threading: Opened, Closed and ShedForBalance are called by the app threads
// that own the connection (lock-free atomics); Observe by the main thread only,
// once per loop turn, with its clock reading (fake clocks in unit tests).
// Ownership: borrows the quota word, which outlives the balance.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"
#include "worker/connection.h"

namespace wsgid {

class ConnectionBalance {
 public:
  // How long the open connections must stay above the quota before keep-alive
  // connections are shed: a few turns of both main loops.
  static constexpr int64_t kShedAfterNs = kNsPerSec / 2;

  // `quota`: the master's connection quota for this worker, in shared memory
  // (0: none); nullptr when the worker runs without a master (never sheds).
  explicit ConnectionBalance(const std::atomic<uint32_t>* quota)
      : quota_(quota) {}

  void Opened() { open_.fetch_add(1); }
  // A connection closes; a shed mark on it is released.
  void Closed(Connection* conn) {
    if (conn->shed) {
      conn->shed = false;
      shedding_.fetch_sub(1);
    }
    open_.fetch_sub(1);
  }
  int open() const { return open_.load(); }

  // The master's quota, bounded (the word is writable by app code); 0: none.
  int Quota() const;

  // Main thread, every turn: notes whether the open connections are above the
  // quota, and since when. Returns the open count it judged.
  int Observe(int64_t now_ns);

  // Whether this keep-alive connection should close after its response
  // because the worker has held more than its quota for a while; marks it so
  // (Connection::shed). Never on a connection's first request: the kernel has
  // just chosen this worker for it, and the client would only reconnect.
  bool ShedForBalance(Connection* conn);

 private:
  const std::atomic<uint32_t>* quota_;
  std::atomic<int> open_{0};
  std::atomic<int> shedding_{0};  // connections marked shed, not closed yet
  // Since when the open connections have been above the quota (0: not
  // above). Main thread only.
  int64_t over_quota_since_ns_ = 0;
  std::atomic<bool> may_shed_{false};
};

}  // namespace wsgid
