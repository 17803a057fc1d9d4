// ListenerSet: the master's listening sockets, one per bind (-b), handed to
// every worker it starts.
//
// A reload opens only the binds that are new and keeps the sockets already
// open for the others, so a socket with connections queued on it is never
// closed and reopened; a bind no longer configured is closed here (workers of
// the old generation keep their copies until they have drained). Sockets
// handed over by systemd or by a USR2 re-exec (LISTEN_FDS, as fds 3...) are
// adopted instead of bound.
//
// The kernel is behind SocketOps so the bookkeeping runs in unit tests with
// fake fds. Thread safety: changes from the loop's thread only; fds(),
// names() and QueueLengths() from any thread (the ops port reads the queues).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

// What the set needs from the kernel.
class SocketOps {
 public:
  virtual ~SocketOps() = default;
  // Binds and listens on `bind` (the -b syntax).
  virtual StatusOr<UniqueFd> Open(const std::string& bind, int backlog) = 0;
  // Makes an inherited socket close-on-exec and non-blocking.
  virtual void Adopt(int fd) = 0;
  // The address a socket is bound to, for the log and the API.
  virtual std::string Describe(int fd) = 0;
  // Connections waiting in its accept queue.
  virtual int64_t QueueLength(int fd) = 0;
};

// The kernel's SocketOps; `reuse_port` (--reuse-port) sets SO_REUSEPORT on
// every TCP listener it opens.
SocketOps* SystemSocketOps(bool reuse_port = false);

// How many listening sockets this process inherited as fds 3...: LISTEN_FDS
// when LISTEN_PID names `self`; none when the variables are unset (null) or
// meant for another process.
std::optional<int> InheritedListenerCount(const char* listen_fds,
                                          const char* listen_pid, pid_t self);

class ListenerSet;

// At start: adopts the sockets handed to this process (LISTEN_FDS; the
// variables are then removed, so workers and a USR2 master never see them),
// else opens `*binds` (127.0.0.1:8000 when there are none: written back).
// Logs each address.
Status OpenStartListeners(ListenerSet* set, std::vector<std::string>* binds,
                          int backlog);

class ListenerSet {
 public:
  explicit ListenerSet(SocketOps* ops) : ops_(ops) {}

  // Takes over fds 3 .. 3+count-1. `binds` name them in order (a USR2 re-exec
  // hands them over in the configured order); those beyond get their address.
  void Adopt(int count, const std::vector<std::string>& binds);
  // Makes the set exactly `binds`: keeps the sockets already open for a bind,
  // opens the others, closes the rest. On an error nothing changes.
  Status Open(const std::vector<std::string>& binds, int backlog);

  size_t size() const;
  std::vector<int> fds() const;
  // The bound addresses, in order.
  std::vector<std::string> names() const;
  // (address, connections waiting in its accept queue) for each listener.
  std::vector<std::pair<std::string, int64_t>> QueueLengths() const;
  // The sum of QueueLengths().
  int64_t TotalQueueLength() const;

 private:
  struct Listener {
    std::string bind;  // as configured, or the address for an inherited one
    std::string name;  // the bound address
    UniqueFd fd;
  };

  SocketOps* ops_;
  mutable std::mutex mu_;            // readers on other threads
  std::vector<Listener> listeners_;  // guarded by mu_ (written by the loop)
};

}  // namespace wsgid
