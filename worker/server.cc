#include "worker/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "worker/response.h"

namespace wsgid {
namespace {

constexpr uint64_t kWakeTag = ~0ull;
constexpr uint64_t kListenerTag = 1ull << 63;
constexpr int64_t kLingerNs = 2 * kNsPerSec;
constexpr size_t kLingerMaxBytes = 1 << 20;
constexpr int kMaxBatch = 64;
// Request bodies up to this size are received while the connection waits in
// epoll, before the app is called (see AwaitsBody).
constexpr int64_t kPrebufferBytes = 256 * 1024;
// While draining, a parked connection waits at most this long for its next
// request.
constexpr double kDrainIdleSeconds = 1.0;
// How long the open connections must stay above the master's quota before
// keep-alive connections are shed: a few turns of both main loops.
constexpr int64_t kShedAfterNs = kNsPerSec / 2;


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

// Connections indexed by fd, allocated in chunks on first use and never freed,
// so a thread holding a stale epoll event can always look at the slot's
// generation word.
class Server::Table {
 public:
  static constexpr int kChunkBits = 10;
  static constexpr int kChunkSize = 1 << kChunkBits;
  struct Chunk {
    Connection conns[kChunkSize];
  };

  explicit Table(size_t max_fds) : chunk_count_(max_fds / kChunkSize + 1) {
    chunks_ = std::make_unique<std::atomic<Chunk*>[]>(chunk_count_);
    for (size_t i = 0; i < chunk_count_; ++i) chunks_[i].store(nullptr);
  }
  ~Table() {
    for (size_t i = 0; i < chunk_count_; ++i) delete chunks_[i].load();
  }

  Connection* Find(int fd) const {
    size_t c = static_cast<size_t>(fd) >> kChunkBits;
    if (c >= chunk_count_) return nullptr;
    Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
    return chunk ? &chunk->conns[fd & (kChunkSize - 1)] : nullptr;
  }

  // REQUIRES: fd < max_fds.
  Connection* Get(int fd) {
    size_t c = static_cast<size_t>(fd) >> kChunkBits;
    Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
    if (chunk == nullptr) {
      auto* fresh = new Chunk();
      if (chunks_[c].compare_exchange_strong(chunk, fresh,
                                             std::memory_order_acq_rel)) {
        chunk = fresh;
      } else {
        delete fresh;
      }
    }
    return &chunk->conns[fd & (kChunkSize - 1)];
  }

  size_t capacity() const { return chunk_count_ * kChunkSize; }

  template <typename F>
  void ForEach(F f) {
    for (size_t c = 0; c < chunk_count_; ++c) {
      Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
      if (chunk == nullptr) continue;
      for (Connection& conn : chunk->conns) f(&conn);
    }
  }

 private:
  size_t chunk_count_;
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
};

Server::Server(const Config& config, std::vector<int> listen_fds,
               RequestHandler* handler, WorkerSlot* slot)
    : config_(config),
      limits_(HttpLimits::FromConfig(config)),
      listen_fds_(std::move(listen_fds)),
      handler_(handler),
      slot_(slot),
      persistent_registration_(MaxThreads(config) == 1) {}

namespace {
// This app thread's scoreboard entry (nullptr when running without a master).
thread_local ThreadSlot* t_thread_slot = nullptr;
}  // namespace

Server::~Server() = default;

Status Server::Init() {
  epoll_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return Status::FromErrno("epoll_create1", errno);
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return Status::FromErrno("eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) < 0)
    return Status::FromErrno("epoll_ctl", errno);
  readable_probe_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!readable_probe_fd_.valid())
    return Status::FromErrno("epoll_create1", errno);
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  size_t max_fds =
      nofile.rlim_cur == RLIM_INFINITY ? (1u << 20) : nofile.rlim_cur;
  table_ = std::make_unique<Table>(max_fds);
  SetListening(true);
  return Status::Ok();
}

bool Server::AddListener(size_t i) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = kListenerTag | i;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listen_fds_[i], &ev) == 0)
    return true;
  Log(LogLevel::kError) << "epoll_ctl(add listener): " << std::strerror(errno);
  return false;
}

void Server::SetListening(bool on) {
  std::lock_guard<std::mutex> lock(listen_mu_);
  if (listening_.load() == on) return;
  if (on) {
    for (size_t i = 0; i < listen_fds_.size(); ++i) {
      if (!AddListener(i)) {
        // Retried by the main loop, all or none: a half-registered set would
        // look like accepting while some listener is never watched.
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

void Server::RemoveListeners() {
  for (int fd : listen_fds_)
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Server::PauseAccepting() {
  accept_paused_until_ns_ = MonotonicNs() + kNsPerSec / 10;
}

void Server::RequeueListener(size_t i) {
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
  std::lock_guard<std::mutex> lock(listen_mu_);
  if (!listening_.load()) return;  // draining or paused: stays off
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, listen_fds_[i], nullptr);
  if (AddListener(i)) return;
  // Not registered any more: take the others out too and let the main loop add
  // them all back, so accepting cannot silently stop.
  RemoveListeners();
  listening_ = false;
  PauseAccepting();
}

void Server::AppThread(int index) {
  if (slot_ != nullptr && index < kMaxThreadsPerWorker)
    t_thread_slot = &slot_->thread[index];
  handler_->ThreadStart();
  epoll_event events[kMaxBatch];
  while (!stop_.load(std::memory_order_relaxed) &&
         index < thread_target_.load(std::memory_order_relaxed)) {
    // A lone thread takes every ready event in one call, as nginx does. With
    // several threads each takes one, so a slow request never sits on events
    // another thread could serve. The timeout lets a retired thread notice.
    int batch =
        thread_target_.load(std::memory_order_relaxed) == 1 ? kMaxBatch : 1;
    int n = ::epoll_wait(epoll_fd_.get(), events, batch, 1000);
    for (int i = 0; i < n && !stop_.load(std::memory_order_relaxed); ++i)
      HandleEvent(events[i].data.u64, events[i].events);
  }
  // A thread retired by a lower target releases its interpreter state; at a
  // stop the process exits around the threads instead.
  handler_->ThreadStop(/*retired=*/!stop_.load());
  thread_alive_[index].store(false);
}

void Server::AdjustThreads() {
  int target = thread_target_.load();
  if (slot_ != nullptr) {
    uint32_t wanted = slot_->desired_threads.load(std::memory_order_relaxed);
    // The master's word, through shared memory: bounded all the same.
    if (wanted >= 1)
      target = std::min<int>(static_cast<int>(wanted), MaxThreads(config_));
  }
  if (target != thread_target_.load()) {
    Log(LogLevel::kInfo) << "app threads: " << thread_target_.load() << " -> "
                         << target;
    thread_target_ = target;
  }
  int running = 0;
  for (int i = 0; i < kMaxThreadsPerWorker; ++i) {
    if (i < target && !thread_alive_[i].load()) {
      thread_alive_[i] = true;
      std::thread([this, i] { AppThread(i); }).detach();
    }
    running += thread_alive_[i].load();
  }
  if (slot_ != nullptr)
    slot_->threads.store(static_cast<uint32_t>(running),
                         std::memory_order_relaxed);
}

void Server::HandleEvent(uint64_t data, uint32_t events) {
  if (data == kWakeTag) return;
  if (data & kListenerTag) {
    AcceptOne(static_cast<int>(data & ~kListenerTag));
    return;
  }
  int fd = static_cast<int>(data >> 32);
  uint32_t gen = static_cast<uint32_t>(data);
  Connection* conn = table_->Find(fd);
  if (conn == nullptr) return;
  // Claim the connection. The parker arms epoll before publishing kParked, and
  // the reaper may hold it in kClosing for a moment: wait out both windows.
  uint64_t word = conn->word.load(std::memory_order_acquire);
  while (true) {
    if (static_cast<uint32_t>(Connection::Generation(word)) != gen) return;
    Connection::State state = Connection::StateOf(word);
    if (state == Connection::kParked) {
      uint64_t active =
          Connection::Make(Connection::Generation(word), Connection::kActive);
      if (conn->word.compare_exchange_weak(word, active,
                                           std::memory_order_acq_rel))
        break;
      continue;
    }
    if (state != Connection::kActive && state != Connection::kClosing) return;
    std::this_thread::yield();
    word = conn->word.load(std::memory_order_acquire);
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn->hangup = true;
  Serve(conn);
}

void Server::AcceptOne(int listener_index) {
  Connection* conn = Accept(listener_index);
  if (conn == nullptr) return;
  RequeueListener(static_cast<size_t>(listener_index));
  Serve(conn);
}

Connection* Server::Accept(int listener_index) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int fd = ::accept4(listen_fds_[static_cast<size_t>(listener_index)],
                     reinterpret_cast<sockaddr*>(&ss), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
        errno == ENOMEM) {
      // Out of descriptors: stop accepting for a moment instead of spinning on
      // the always-readable listener; the main loop turns accepting back on.
      Log(LogLevel::kWarning)
          << "accept: " << std::strerror(errno) << "; pausing accepts";
      PauseAccepting();
      SetListening(false);
    }
    return nullptr;
  }
  if (static_cast<size_t>(fd) >= table_->capacity()) {
    ::close(fd);
    return nullptr;
  }
  if (slot_ != nullptr) slot_->accepts.fetch_add(1, std::memory_order_relaxed);
  Connection* conn = table_->Get(fd);
  uint64_t gen = Connection::Generation(conn->word.load()) + 1;
  conn->Reset(fd, listener_index);
  FillPeer(conn, ss);
  conn->word.store(Connection::Make(gen, Connection::kActive),
                   std::memory_order_release);
  open_connections_.fetch_add(1);
  // Left by close(): the probe holds no reference of its own. A failed add only
  // leaves this connection out of the waiting count.
  epoll_event probe{};
  probe.events = EPOLLIN;
  probe.data.fd = fd;
  ::epoll_ctl(readable_probe_fd_.get(), EPOLL_CTL_ADD, fd, &probe);
  return conn;
}

void Server::Serve(Connection* conn) {
  thread_local RequestHead head;
  // Called when the socket is readable (or freshly accepted: with its request
  // usually waiting). After a response the next request has usually not arrived
  // yet, so the loop parks instead of trying a read that would fail.
  bool try_read = true;
  while (true) {
    std::string_view pending = conn->Pending();
    if (!pending.empty()) {
      size_t consumed = 0;
      HttpError error;
      ParseStatus status =
          ParseRequestHead(pending, limits_, &head, &consumed, &error);
      if (status == ParseStatus::kError) {
        Log(LogLevel::kDebug)
            << "bad request from " << conn->remote_addr << ": " << error.reason;
        Response::WriteError(conn, error.status, error.reason,
                             config_.server_header, config_.io_timeout);
        LingerClose(conn);
        return;
      }
      if (status == ParseStatus::kDone) {
        if (config_.limit_request_body >= 0 &&
            head.body_kind == RequestHead::BodyKind::kLength &&
            head.content_length > config_.limit_request_body) {
          conn->Consume(consumed);
          Response::WriteError(conn, 413, "request body too large",
                               config_.server_header, config_.io_timeout);
          LingerClose(conn);
          return;
        }
        if (!AwaitsBody(head, pending.size() - consumed)) {
          conn->Consume(consumed);
          conn->awaiting_body.store(false, std::memory_order_relaxed);
          bool keep_alive =
              Dispatch(conn, &head,
                       head.keep_alive && !draining() && !ShedForBalance(conn));
          ++conn->requests;
          if (!keep_alive) {
            LingerClose(conn);
            return;
          }
          // Read on only if the last read may have left bytes in the socket,
          // or the peer half-closed: edge-triggered parking would not report
          // either again.
          try_read = conn->read_full || conn->hangup;
          continue;
        }
        // The rest of a small body is on its way: wait for it in epoll, not
        // in an app thread (the head is parsed again once it is here).
        conn->awaiting_body.store(true, std::memory_order_relaxed);
      }
      try_read = true;  // a partial head or body: more bytes are on their way
    }
    if (!try_read) {
      Park(conn);
      return;
    }
    ssize_t n = conn->ReadAvailable();
    if (n > 0) continue;
    if (n < 0 && errno == EAGAIN) {
      Park(conn);
      return;
    }
    Close(conn);  // EOF or error; any pending partial request is abandoned
    return;
  }
}

bool Server::AwaitsBody(const RequestHead& head, size_t buffered) const {
  // Worth it only while one thread would otherwise sit in poll() for the rest:
  // bodies up to kPrebufferBytes, whose client is not waiting for a 100
  // Continue (that is answered when the app reads) and has not hung up.
  return head.body_kind == RequestHead::BodyKind::kLength &&
         !head.expect_continue && head.content_length <= kPrebufferBytes &&
         static_cast<int64_t>(buffered) < head.content_length;
}

bool Server::Dispatch(Connection* conn, RequestHead* head, bool keep_alive) {
  busy_threads_.fetch_add(1, std::memory_order_relaxed);
  if (t_thread_slot != nullptr)
    Scoreboard::BeginRequest(t_thread_slot, MonotonicNs(), head->method,
                             head->path);
  RequestOutcome outcome = handler_->Handle(conn, head, keep_alive);
  if (t_thread_slot != nullptr) {
    int64_t end = MonotonicNs();
    int64_t took_ns =
        end - t_thread_slot->request_start_ns.load(std::memory_order_relaxed);
    Scoreboard::EndRequest(t_thread_slot, end);
    auto relaxed = std::memory_order_relaxed;
    slot_->requests.fetch_add(1, relaxed);
    slot_->bytes_out.fetch_add(static_cast<uint64_t>(outcome.body_bytes),
                               relaxed);
    if (outcome.app_exception) slot_->app_exceptions.fetch_add(1, relaxed);
    if (outcome.status != 0)
      slot_->responses[MethodIndex(head->method)][CodeIndex(outcome.status)]
          .fetch_add(1, relaxed);
    slot_->latency[LatencyBucket(static_cast<double>(took_ns) / 1e9)].fetch_add(
        1, relaxed);
    slot_->latency_sum_us.fetch_add(static_cast<uint64_t>(took_ns / 1000),
                                    relaxed);
  }
  busy_threads_.fetch_sub(1, std::memory_order_relaxed);
  return outcome.keep_alive;
}

int Server::ConnectionQuota() const {
  if (slot_ == nullptr) return 0;
  // The master's word, through shared memory: it can only cost keep-alives.
  return static_cast<int>(std::min<uint32_t>(
      slot_->connection_quota.load(std::memory_order_relaxed), 1u << 30));
}

bool Server::ShedForBalance(Connection* conn) {
  if (!may_shed_.load(std::memory_order_relaxed) || conn->requests == 0 ||
      conn->shed)
    return false;
  int quota = ConnectionQuota();
  if (quota == 0) return false;
  // Connections already marked close soon: count them gone, so concurrent
  // threads shed the surplus once, not once each.
  int shedding = shedding_.load();
  while (open_connections_.load() - shedding > quota) {
    if (shedding_.compare_exchange_weak(shedding, shedding + 1)) {
      conn->shed = true;
      return true;
    }
  }
  return false;
}

void Server::PublishLoad() {
  if (slot_ == nullptr) return;
  int64_t now = MonotonicNs();
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
  if (last_load_sample_ns_ != 0)
    slot_->waiting_ns.fetch_add(waiting * (now - last_load_sample_ns_),
                                std::memory_order_relaxed);
  last_load_sample_ns_ = now;
  int open = open_connections_.load();
  slot_->connections.store(static_cast<uint32_t>(std::max(0, open)),
                           std::memory_order_relaxed);
  int quota = ConnectionQuota();
  if (quota == 0 || open <= quota) {
    over_quota_since_ns_ = 0;
  } else if (over_quota_since_ns_ == 0) {
    over_quota_since_ns_ = now;
  }
  may_shed_.store(
      over_quota_since_ns_ != 0 && now - over_quota_since_ns_ >= kShedAfterNs,
      std::memory_order_relaxed);
}

void Server::Park(Connection* conn) {
  bool idle = conn->Pending().empty() && conn->requests > 0;
  double timeout = idle ? config_.keep_alive : config_.header_timeout;
  // A request whose body is arriving was sent: a drain lets it finish.
  if (conn->awaiting_body.load(std::memory_order_relaxed)) {
    timeout = config_.io_timeout;
  } else if (draining()) {
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
    ev.data.u64 =
        static_cast<uint64_t>(conn->fd) << 32 | static_cast<uint32_t>(gen);
    int op = conn->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    conn->registered = true;
    if (::epoll_ctl(epoll_fd_.get(), op, conn->fd, &ev) < 0) {
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

void Server::Close(Connection* conn) {
  int fd = conn->fd;
  conn->in.clear();
  if (conn->in.capacity() > (1u << 20)) conn->in.shrink_to_fit();
  conn->in_pos = 0;
  uint64_t gen =
      Connection::Generation(conn->word.load(std::memory_order_relaxed));
  conn->word.store(Connection::Make(gen, Connection::kFree),
                   std::memory_order_release);
  if (conn->shed) {
    conn->shed = false;
    shedding_.fetch_sub(1);
  }
  open_connections_.fetch_sub(1);
  ::close(fd);
}

void Server::LingerClose(Connection* conn) {
  // Closing with unread input makes the kernel send a reset, which can destroy
  // the response before the client reads it: stop writing, read what still
  // comes for a moment, then close.
  int pending = 0;
  ::ioctl(conn->fd, FIONREAD, &pending);
  if (pending == 0 && conn->Pending().empty()) {
    ::shutdown(conn->fd, SHUT_WR);
    Close(conn);
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

void Server::ExpireConnections() {
  int64_t now = MonotonicNs();
  table_->ForEach([&](Connection* conn) {
    uint64_t word = conn->word.load(std::memory_order_acquire);
    if (Connection::StateOf(word) != Connection::kParked) return;
    if (conn->deadline_ns.load(std::memory_order_relaxed) > now) return;
    uint64_t gen = Connection::Generation(word);
    if (!conn->word.compare_exchange_strong(
            word, Connection::Make(gen, Connection::kClosing),
            std::memory_order_acq_rel))
      return;
    ::shutdown(conn->fd, SHUT_RDWR);
    Close(conn);
  });
}

void Server::StartDrain() {
  if (draining_.exchange(true)) return;
  SetListening(false);
  // With EPOLLEXCLUSIVE the kernel wakes one worker per new connection: one it
  // chose as this worker stopped listening would stay in the backlog, the other
  // workers never woken for it. Take what is waiting now and serve it here
  // (parked: the app threads answer it, with Connection: close).
  for (size_t i = 0; i < listen_fds_.size(); ++i) {
    while (Connection* conn = Accept(static_cast<int>(i))) Park(conn);
  }
  // Idle keep-alive connections are not closed at once: a client may be sending
  // its next request right now, and closing would lose it. They get a short
  // deadline instead; a request that arrives meanwhile is served with
  // Connection: close.
  int64_t deadline = MonotonicNs() + SecondsToNs(kDrainIdleSeconds);
  table_->ForEach([&](Connection* conn) {
    if (conn->awaiting_body.load(std::memory_order_relaxed)) return;
    int64_t current = conn->deadline_ns.load(std::memory_order_relaxed);
    while (current > deadline &&
           !conn->deadline_ns.compare_exchange_weak(
               current, deadline, std::memory_order_relaxed)) {
    }
  });
}

int Server::RunMainLoop() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s :
       {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU})
    sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  thread_alive_ = std::make_unique<std::atomic<bool>[]>(kMaxThreadsPerWorker);
  for (int i = 0; i < kMaxThreadsPerWorker; ++i) thread_alive_[i] = false;
  thread_target_ = config_.threads;
  if (slot_ != nullptr) {
    slot_->pid.store(::getpid(), std::memory_order_relaxed);
    slot_->heartbeat_ns.store(MonotonicNs(), std::memory_order_relaxed);
  }
  AdjustThreads();

  pid_t parent = ::getppid();
  int64_t drain_deadline = 0;
  int exit_code = 0;
  while (true) {
    timespec tick{0, 100 * 1000 * 1000};
    siginfo_t info;
    int sig = ::sigtimedwait(&signals, &info, &tick);
    // The heartbeat: this loop never waits for the GIL, so a stale one means
    // the process itself is stuck or stopped.
    if (slot_ != nullptr)
      slot_->heartbeat_ns.store(MonotonicNs(), std::memory_order_relaxed);
    if (sig == SIGTERM) {
      if (!draining()) {
        Log(LogLevel::kInfo) << "worker draining (graceful timeout "
                             << config_.graceful_timeout << " s)";
        drain_deadline = MonotonicNs() + SecondsToNs(config_.graceful_timeout);
        StartDrain();
      }
    } else if (sig == SIGINT || sig == SIGQUIT) {
      break;
    } else if (sig == SIGUSR1) {
      auto level = ParseLogLevel(config_.log_level);
      (void)OpenErrorLog(config_.error_logfile,
                         level.ok() ? *level : LogLevel::kInfo);
    }
    if (::getppid() != parent) {
      Log(LogLevel::kWarning) << "master went away; worker exiting";
      exit_code = 1;
      break;
    }
    int64_t paused = accept_paused_until_ns_.load();
    if (paused != 0 && !draining() && MonotonicNs() >= paused) {
      accept_paused_until_ns_ = 0;
      SetListening(true);
    }
    ExpireConnections();
    PublishLoad();
    if (!draining()) AdjustThreads();
    if (draining()) {
      if (open_connections_.load() == 0) break;
      if (MonotonicNs() >= drain_deadline) {
        Log(LogLevel::kWarning) << "graceful timeout: closing "
                                << open_connections_.load() << " connection(s)";
        break;
      }
    }
  }
  stop_ = true;
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
  // Threads inside a request are not waited for: the process exits around them.
  return exit_code;
}

}  // namespace wsgid
