#include "worker/listener_set.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/log.h"

namespace wsgid {

bool ListenerSet::AddListener(size_t i) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = kTag | i;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fds_[i], &ev) == 0)
    return true;
  Log(LogLevel::kError) << "epoll_ctl(add listener): " << std::strerror(errno);
  return false;
}

void ListenerSet::RemoveListeners() {
  for (int fd : listen_fds_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void ListenerSet::SetListening(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  if (listening_.load() == on) return;
  if (on) {
    for (size_t i = 0; i < listen_fds_.size(); ++i) {
      if (!AddListener(i)) {
        RemoveListeners();
        PauseAccepting();
        return;
      }
    }
  } else {
    RemoveListeners();
  }
  listening_ = on;
}

void ListenerSet::PauseAccepting() {
  paused_until_ns_ = MonotonicNs() + kNsPerSec / 10;
}

void ListenerSet::ResumeIfDue(int64_t now_ns) {
  int64_t paused = paused_until_ns_.load();
  if (paused == 0 || now_ns < paused) return;
  paused_until_ns_ = 0;
  SetListening(true);
}

void ListenerSet::Requeue(size_t i) {
  // EPOLLEXCLUSIVE wakes the first worker, in the order they registered, that
  // has a thread asleep in epoll_wait. A fast idle worker is nearly always
  // asleep when the next connection arrives, so it would take all of them (32/0
  // with h2load -c 32 on 2 workers). Registering again after each accept puts
  // this worker at the back of the line: sleeping workers take new connections
  // in turn, and a busy worker is skipped as before.
  //
  // No connection can be left behind in the backlog: one that arrives between
  // the two calls wakes another worker, and the ADD polls the listener and
  // reports it here too if it is still waiting.
  std::lock_guard<std::mutex> lock(mu_);
  if (!listening_.load()) return;  // draining or paused: stays off
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fds_[i], nullptr);
  if (AddListener(i)) return;
  // Not registered any more: take the others out too and let the main loop add
  // them all back, so accepting cannot silently stop.
  RemoveListeners();
  listening_ = false;
  PauseAccepting();
}

int ListenerSet::Accept(size_t i, sockaddr_storage* peer) {
  *peer = {};
  socklen_t len = sizeof *peer;
  int fd = ::accept4(listen_fds_[i], reinterpret_cast<sockaddr*>(peer), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
      errno == ENOMEM) {
    Log(LogLevel::kWarning)
        << "accept: " << std::strerror(errno) << "; pausing accepts";
    PauseAccepting();
    SetListening(false);
  }
  return -1;
}

}  // namespace wsgid
