// ConnectionSet: the worker's open connections and the moves between their
// states (Connection::State): opened from an accepted fd (kActive, owned by
// the accepting thread), parked in the shared epoll set (kParked, owned by
// nobody), claimed by the thread that an epoll event woke (kActive again),
// expired by the main thread (kClosing), closed (kFree).
//
// Every move out of kParked is a compare-and-swap on Connection::word, and
// epoll data carries the connection's generation, so a stale event never
// touches a recycled fd. In a shared EPOLLONESHOT set only the owner may close
// a connection (see DESIGN.md "Known traps").
//
// Threading: Open, Claim, Park, Close and LingerClose are called by app threads
// (and by the main thread for connections it accepts while draining); Claim is
// the only one on a connection the caller does not own yet. ExpireDue,
// ShortenDeadlines and CountWaiting are called by the main thread only.
// Ownership: owns the connection table, the readable-probe epoll set and the
// connection balance; borrows the shared epoll fd and the Config, which
// outlive it.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>

#include "common/config.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "worker/connection.h"
#include "worker/connection_balance.h"
#include "worker/connection_table.h"

namespace wsgid {

class ConnectionSet {
 public:
  // While draining, a parked connection waits at most this long for its next
  // request.
  static constexpr double kDrainIdleSeconds = 1.0;

  // `persistent_registration`: only one app thread can ever run, so
  // connections stay registered edge-triggered for their whole life instead of
  // EPOLLONESHOT re-armed per request. `quota`: see ConnectionBalance.
  ConnectionSet(const Config& config, int epoll_fd,
                bool persistent_registration,
                const std::atomic<uint32_t>* quota);
  ~ConnectionSet();

  // Sizes the table to RLIMIT_NOFILE and creates the readable probe.
  Status Init();

  // Makes a connection of a freshly accepted fd, owned by the caller
  // (kActive); nullptr (the fd closed) when the fd is beyond the table.
  Connection* Open(int fd, int listener_index, const sockaddr_storage& peer);

  // Takes ownership of the connection an epoll event with `data` (the tag Park
  // registered) and `events` is about; nullptr when the event is stale (the
  // connection was closed or recycled since). Waits out the moments when the
  // parker has armed epoll but not yet published kParked, or the reaper holds
  // it in kClosing.
  Connection* Claim(uint64_t data, uint32_t events);

  // Hands an owned connection back to epoll until its next bytes arrive or its
  // deadline passes (the keep-alive, header or I/O timeout; shorter while
  // `draining`). The caller must not touch it afterwards.
  void Park(Connection* conn, bool draining);

  // Closes an owned connection now.
  void Close(Connection* conn);

  // Closes an owned connection after its response without a reset destroying
  // that response: stops writing, discards what the client still sends for a
  // moment, then closes.
  void LingerClose(Connection* conn);

  // Main thread: closes the parked connections whose deadline passed (idle, or
  // too slow to send a head or body).
  void ExpireDue(int64_t now_ns);

  // Main thread, at a drain: brings the deadlines of parked connections down
  // to `deadline_ns`, except those waiting for the rest of a request body that
  // was sent.
  void ShortenDeadlines(int64_t deadline_ns);

  // Main thread: connections parked with bytes unread, i.e. requests waiting
  // for a thread.
  int64_t CountWaiting();

  ConnectionBalance& balance() { return balance_; }
  int open() const { return balance_.open(); }

 private:
  const Config& config_;
  const int epoll_fd_;
  const bool persistent_registration_;
  ConnectionBalance balance_;
  std::unique_ptr<ConnectionTable> table_;
  // Every open connection, level-triggered and never waited on: polled with a
  // zero timeout, it lists the connections with bytes unread.
  UniqueFd readable_probe_fd_;
};

}  // namespace wsgid
