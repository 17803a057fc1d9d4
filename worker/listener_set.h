// ListenerSet: the worker's listening sockets in the shared epoll set, and
// accepting from them.
//
// Every worker registers the same inherited listeners with EPOLLEXCLUSIVE, so
// the kernel wakes one worker per new connection. EPOLLEXCLUSIVE works only
// with EPOLL_CTL_ADD, so accepting is turned off and on by removing and adding
// the listeners (drain, out of descriptors, a failed epoll_ctl), all of them or
// none: a half-registered set would look like accepting while some listener is
// never watched. A pause is retried by the main loop (ResumeIfDue).
//
// Threading: every method is safe from any thread; registration changes are
// serialised by a mutex (the app threads requeue, the main thread pauses,
// resumes and stops). Accept takes no lock.
// Ownership: borrows the epoll fd and the listening fds (owned by the process).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace wsgid {

class ListenerSet {
 public:
  // epoll data of listener i is kTag | i (bit 63 set; connections' never is).
  static constexpr uint64_t kTag = 1ull << 63;
  static bool IsTag(uint64_t data) { return (data & kTag) != 0; }
  static size_t IndexOf(uint64_t data) {
    return static_cast<size_t>(data & ~kTag);
  }

  // REQUIRES: listen_fds are listening, non-blocking sockets.
  ListenerSet(int epoll_fd, std::vector<int> listen_fds)
      : epoll_fd_(epoll_fd), listen_fds_(std::move(listen_fds)) {}

  size_t size() const { return listen_fds_.size(); }

  // Adds (on) or removes every listener from the epoll set. A failed add
  // leaves none registered and pauses accepting.
  void SetListening(bool on);

  // Moves this worker to the back of listener i's queue of waiters, so the
  // kernel offers the next connection to the other workers first.
  void Requeue(size_t i);

  // Stops accepting for a moment (out of descriptors, a failed epoll_ctl):
  // ResumeIfDue turns accepting back on once it has passed.
  void PauseAccepting();

  // Main loop, every turn (not while draining): ends a pause that is over.
  void ResumeIfDue(int64_t now_ns);

  // Accepts one waiting connection from listener i: its fd (non-blocking,
  // close-on-exec) and *peer, or -1 when none is waiting or accept failed.
  // Out of descriptors (or memory) pauses accepting instead of spinning on the
  // always-readable listener.
  int Accept(size_t i, sockaddr_storage* peer);

 private:
  // REQUIRES: mu_ held.
  bool AddListener(size_t i);
  // REQUIRES: mu_ held.
  void RemoveListeners();

  const int epoll_fd_;
  const std::vector<int> listen_fds_;
  std::mutex mu_;  // serialises adding/removing the listeners
  std::atomic<bool> listening_{false};
  std::atomic<int64_t> paused_until_ns_{0};
};

}  // namespace wsgid
