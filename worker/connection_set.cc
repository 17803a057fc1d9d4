#include "worker/connection_set.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/log.h"

namespace wsgid {
namespace {

constexpr int64_t kLingerNs = 2 * kNsPerSec;
constexpr size_t kLingerMaxBytes = 1 << 20;

// epoll data of a parked connection: its fd and the low bits of its
// generation.
uint64_t EventTag(int fd, uint64_t generation) {
  return static_cast<uint64_t>(fd) << 32 | static_cast<uint32_t>(generation);
}

void FillPeer(Connection* conn, const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    conn->remote_addr = host;
    conn->remote_port = std::to_string(ntohs(sin->sin_port));
    conn->is_unix = false;
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    conn->remote_addr = host;
    conn->remote_port = std::to_string(ntohs(sin6->sin6_port));
    conn->is_unix = false;
  } else {
    conn->is_unix = true;
  }
}

}  // namespace

ConnectionSet::ConnectionSet(const Config& config, int epoll_fd,
                             bool persistent_registration,
                             const std::atomic<uint32_t>* quota)
    : config_(config),
      epoll_fd_(epoll_fd),
      persistent_registration_(persistent_registration),
      balance_(quota) {}

ConnectionSet::~ConnectionSet() = default;

Status ConnectionSet::Init() {
  readable_probe_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!readable_probe_fd_.valid())
    return Status::FromErrno("epoll_create1", errno);
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  size_t max_fds =
      nofile.rlim_cur == RLIM_INFINITY ? (1u << 20) : nofile.rlim_cur;
  table_ = std::make_unique<ConnectionTable>(max_fds);
  return Status::Ok();
}

Connection* ConnectionSet::Open(int fd, int listener_index,
                                const sockaddr_storage& peer) {
  if (static_cast<size_t>(fd) >= table_->capacity()) {
    ::close(fd);
    return nullptr;
  }
  Connection* conn = table_->Get(fd);
  uint64_t gen = Connection::Generation(conn->word.load()) + 1;
  conn->Reset(fd, listener_index);
  FillPeer(conn, peer);
  conn->word.store(Connection::Make(gen, Connection::kActive),
                   std::memory_order_release);
  balance_.Opened();
  // Left by close(): the probe holds no reference of its own. A failed add only
  // leaves this connection out of the waiting count.
  epoll_event probe{};
  probe.events = EPOLLIN;
  probe.data.fd = fd;
  ::epoll_ctl(readable_probe_fd_.get(), EPOLL_CTL_ADD, fd, &probe);
  return conn;
}

Connection* ConnectionSet::Claim(uint64_t data, uint32_t events) {
  int fd = static_cast<int>(data >> 32);
  uint32_t gen = static_cast<uint32_t>(data);
  Connection* conn = table_->Find(fd);
  if (conn == nullptr) return nullptr;
  uint64_t word = conn->word.load(std::memory_order_acquire);
  while (true) {
    if (static_cast<uint32_t>(Connection::Generation(word)) != gen)
      return nullptr;
    Connection::State state = Connection::StateOf(word);
    if (state == Connection::kParked) {
      uint64_t active =
          Connection::Make(Connection::Generation(word), Connection::kActive);
      if (conn->word.compare_exchange_weak(word, active,
                                           std::memory_order_acq_rel))
        break;
      continue;
    }
    if (state != Connection::kActive && state != Connection::kClosing)
      return nullptr;
    std::this_thread::yield();
    word = conn->word.load(std::memory_order_acquire);
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn->hangup = true;
  return conn;
}

void ConnectionSet::Park(Connection* conn, bool draining) {
  bool idle = conn->Pending().empty() && conn->requests > 0;
  double timeout = idle ? config_.keep_alive : config_.header_timeout;
  // A request whose body is arriving was sent: a drain lets it finish.
  if (conn->awaiting_body.load(std::memory_order_relaxed)) {
    timeout = config_.io_timeout;
  } else if (draining) {
    timeout = std::min(timeout, kDrainIdleSeconds);
  }
  conn->deadline_ns.store(MonotonicNs() + SecondsToNs(timeout),
                          std::memory_order_relaxed);
  uint64_t gen =
      Connection::Generation(conn->word.load(std::memory_order_relaxed));
  // A connection stays registered edge-triggered for its whole life when only
  // one app thread can ever exist: then no epoll_ctl per request. Otherwise
  // EPOLLONESHOT hands each readiness to one thread, re-armed here.
  if (!conn->registered || !persistent_registration_) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP |
                (persistent_registration_ ? EPOLLET : EPOLLONESHOT);
    ev.data.u64 = EventTag(conn->fd, gen);
    int op = conn->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    conn->registered = true;
    if (::epoll_ctl(epoll_fd_, op, conn->fd, &ev) < 0) {
      Log(LogLevel::kError)
          << "epoll_ctl(connection): " << std::strerror(errno);
      Close(conn);
      return;
    }
  }
  // From here on another thread may own the connection: touch nothing after
  // this store.
  conn->word.store(Connection::Make(gen, Connection::kParked),
                   std::memory_order_release);
}

void ConnectionSet::Close(Connection* conn) {
  int fd = conn->fd;
  conn->in.clear();
  if (conn->in.capacity() > (1u << 20)) conn->in.shrink_to_fit();
  conn->in_pos = 0;
  uint64_t gen =
      Connection::Generation(conn->word.load(std::memory_order_relaxed));
  conn->word.store(Connection::Make(gen, Connection::kFree),
                   std::memory_order_release);
  balance_.Closed(conn);
  conn->EndTls();
  ::close(fd);
}

void ConnectionSet::LingerClose(Connection* conn) {
  // Closing with unread input makes the kernel send a reset, which can destroy
  // the response before the client reads it.
  int pending = 0;
  ::ioctl(conn->fd, FIONREAD, &pending);
  if (conn->tls != nullptr) conn->tls->Shutdown();  // close_notify
  if (pending == 0 && conn->Pending().empty()) {
    Close(conn);  // its FIN is close(2)'s: no shutdown(2) call first
    return;
  }
  ::shutdown(conn->fd, SHUT_WR);
  int64_t deadline = MonotonicNs() + kLingerNs;
  size_t discarded = 0;
  char buf[16384];
  while (discarded < kLingerMaxBytes) {
    int64_t left_ms = (deadline - MonotonicNs()) / 1000000;
    if (left_ms <= 0) break;
    pollfd p{conn->fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left_ms)) <= 0) break;
    ssize_t n = ::recv(conn->fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    discarded += static_cast<size_t>(n);
  }
  Close(conn);
}

void ConnectionSet::ExpireDue(int64_t now_ns) {
  table_->ForEach([&](Connection* conn) {
    uint64_t word = conn->word.load(std::memory_order_acquire);
    if (Connection::StateOf(word) != Connection::kParked) return;
    if (conn->deadline_ns.load(std::memory_order_relaxed) > now_ns) return;
    uint64_t gen = Connection::Generation(word);
    if (!conn->word.compare_exchange_strong(
            word, Connection::Make(gen, Connection::kClosing),
            std::memory_order_acq_rel))
      return;
    ::shutdown(conn->fd, SHUT_RDWR);
    Close(conn);
  });
}

void ConnectionSet::ShortenDeadlines(int64_t deadline_ns) {
  table_->ForEach([&](Connection* conn) {
    if (conn->awaiting_body.load(std::memory_order_relaxed)) return;
    int64_t current = conn->deadline_ns.load(std::memory_order_relaxed);
    while (current > deadline_ns &&
           !conn->deadline_ns.compare_exchange_weak(
               current, deadline_ns, std::memory_order_relaxed)) {
    }
  });
}

int64_t ConnectionSet::CountWaiting() {
  constexpr int kMaxProbe = 1024;
  epoll_event ready[kMaxProbe];
  int n = ::epoll_wait(readable_probe_fd_.get(), ready, kMaxProbe, 0);
  int64_t waiting = 0;
  for (int i = 0; i < n; ++i) {
    // Readable and parked: a request (or the rest of one) no thread has taken
    // yet. A connection a thread owns is being served, whatever it has unread.
    Connection* conn = table_->Find(ready[i].data.fd);
    if (conn != nullptr &&
        Connection::StateOf(conn->word.load(std::memory_order_relaxed)) ==
            Connection::kParked)
      ++waiting;
  }
  return waiting;
}

}  // namespace wsgid
