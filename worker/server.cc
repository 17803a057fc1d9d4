#include "worker/server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "common/listener.h"
#include "common/log.h"
#include "common/tls_settings.h"

namespace wsgid {
namespace {

constexpr uint64_t kWakeTag = ~0ull;
constexpr int kMaxBatch = 64;
// The main loop's turn when no signal arrives: how often it stamps the
// heartbeat, expires connections and publishes the load.
constexpr long kTickNs = 100 * 1000 * 1000;

}  // namespace

Server::Server(const Config& config, std::vector<int> listen_fds,
               RequestHandler* handler, WorkerSlot* slot,
               std::unique_ptr<TlsContext> tls_context)
    : config_(config),
      listen_fds_(std::move(listen_fds)),
      handler_(handler),
      slot_(slot),
      persistent_registration_(MaxThreads(config) == 1),
      tls_context_(std::move(tls_context)) {}

Server::~Server() = default;

Status Server::Init() {
  // Blocked from here, not only from the main loop: the master may drain a
  // worker as soon as its ready line arrives, and a TERM in between would kill
  // it by default action instead of draining it (worker_exit never running).
  BlockWorkerSignals();
  epoll_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return Status::FromErrno("epoll_create1", errno);
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return Status::FromErrno("eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) < 0)
    return Status::FromErrno("epoll_ctl", errno);
  connections_ = std::make_unique<ConnectionSet>(
      config_, epoll_fd_.get(), persistent_registration_,
      slot_ != nullptr ? &slot_->connection_quota : nullptr);
  if (Status s = connections_->Init(); !s.ok()) return s;
  request_loop_ = std::make_unique<RequestLoop>(config_, handler_, slot_,
                                                connections_.get(), &draining_);
  if (Status s = InitTls(); !s.ok()) return s;
  listeners_ =
      std::make_unique<ListenerSet>(epoll_fd_.get(), std::move(listen_fds_));
  listeners_->SetListening(true);
  return Status::Ok();
}

Status Server::InitTls() {
  preface_ = std::make_unique<ConnectionPreface>(config_);
  bool any = false;
  for (int fd : listen_fds_) {
    listener_tls_.push_back(
        ListenerUsesTls(fd, TlsEnabled(config_), config_.binds));
    any = any || listener_tls_.back();
  }
  if (!any) return Status::Ok();
  if (tls_context_ == nullptr) {
    auto context = TlsContext::Create(config_);
    if (!context.ok()) return context.status();
    tls_context_ = std::move(context).value();
  }
  for (size_t i = 0; i < listen_fds_.size(); ++i)
    Log(LogLevel::kInfo) << DescribeSocket(listen_fds_[i]) << ": "
                         << (listener_tls_[i] ? "https" : "http");
  return Status::Ok();
}

bool Server::BeginPreface(Connection* conn, size_t listener_index) {
  bool tls = listener_tls_[listener_index];
  conn->stage = preface_->FirstStage(tls);
  if (!tls) return true;
  SSL* ssl = tls_context_->NewSession(conn->fd);
  if (ssl == nullptr) {
    connections_->Close(conn);
    return false;
  }
  conn->StartTls(ssl);
  return true;
}

// App threads ----------------------------------------------------------------

void Server::AppThread(int index) {
  if (slot_ != nullptr && index < kMaxThreadsPerWorker)
    RequestLoop::BindThread(&slot_->thread[index]);
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
  if (ListenerSet::IsTag(data)) {
    AcceptOne(ListenerSet::IndexOf(data));
    return;
  }
  if (Connection* conn = connections_->Claim(data, events))
    request_loop_->Serve(conn);
}

void Server::AcceptOne(size_t listener_index) {
  Connection* conn = Accept(listener_index);
  if (conn == nullptr) return;
  listeners_->Requeue(listener_index);
  // A TLS client's hello (or a proxy's PROXY header) has rarely arrived when
  // its connection is accepted: a handshake tried now would cost a read that
  // fails. Parked, epoll reports the connection once the bytes are there (at
  // once if they already are), as nginx waits for them.
  if (conn->stage != Connection::Stage::kHttp) {
    connections_->Park(conn, draining());
    return;
  }
  request_loop_->Serve(conn);
}

Connection* Server::Accept(size_t listener_index) {
  sockaddr_storage peer;
  int fd = listeners_->Accept(listener_index, &peer);
  if (fd < 0) return nullptr;
  Connection* conn =
      connections_->Open(fd, static_cast<int>(listener_index), peer);
  if (conn != nullptr && !BeginPreface(conn, listener_index)) return nullptr;
  if (conn != nullptr && slot_ != nullptr)
    slot_->accepts.fetch_add(1, std::memory_order_relaxed);
  return conn;
}

// Main loop ------------------------------------------------------------------

sigset_t Server::BlockWorkerSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s :
       {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU})
    sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void Server::Heartbeat() {
  if (slot_ != nullptr)
    slot_->heartbeat_ns.store(MonotonicNs(), std::memory_order_relaxed);
}

bool Server::HandleSignal(int sig, int64_t* drain_deadline_ns) {
  if (sig == SIGTERM) {
    if (!draining()) {
      Log(LogLevel::kInfo) << "worker draining (graceful timeout "
                           << config_.graceful_timeout << " s)";
      *drain_deadline_ns =
          MonotonicNs() + SecondsToNs(config_.graceful_timeout);
      StartDrain();
    }
  } else if (sig == SIGINT || sig == SIGQUIT) {
    if (life_hooks_ != nullptr) life_hooks_->WorkerInt();
    return false;
  } else if (sig == SIGUSR1) {
    ReopenLogs();  // the error log, the access log, stdout/stderr
  }
  return true;
}

void Server::Housekeeping(int64_t now_ns) {
  if (!draining()) listeners_->ResumeIfDue(now_ns);
  connections_->ExpireDue(now_ns);
  PublishLoad(now_ns);
  if (!draining()) AdjustThreads();
}

bool Server::DrainFinished(int64_t now_ns, int64_t drain_deadline_ns) {
  if (!draining()) return false;
  if (connections_->open() == 0) return true;
  if (now_ns < drain_deadline_ns) return false;
  Log(LogLevel::kWarning) << "graceful timeout: closing "
                          << connections_->open() << " connection(s)";
  return true;
}

void Server::StartDrain() {
  if (draining_.exchange(true)) return;
  listeners_->SetListening(false);
  // With EPOLLEXCLUSIVE the kernel wakes one worker per new connection: one it
  // chose as this worker stopped listening would stay in the backlog, the other
  // workers never woken for it. Take what is waiting now and serve it here
  // (parked: the app threads answer it, with Connection: close).
  for (size_t i = 0; i < listeners_->size(); ++i) {
    while (Connection* conn = Accept(i))
      connections_->Park(conn, /*draining=*/true);
  }
  // Idle keep-alive connections are not closed at once: a client may be sending
  // its next request right now, and closing would lose it. They get a short
  // deadline instead; a request that arrives meanwhile is served with
  // Connection: close.
  connections_->ShortenDeadlines(MonotonicNs() +
                                 SecondsToNs(ConnectionSet::kDrainIdleSeconds));
}

void Server::PublishLoad(int64_t now_ns) {
  if (slot_ == nullptr) return;
  int64_t waiting = connections_->CountWaiting();
  if (last_load_sample_ns_ != 0)
    slot_->waiting_ns.fetch_add(waiting * (now_ns - last_load_sample_ns_),
                                std::memory_order_relaxed);
  last_load_sample_ns_ = now_ns;
  int open = connections_->balance().Observe(now_ns);
  slot_->connections.store(static_cast<uint32_t>(std::max(0, open)),
                           std::memory_order_relaxed);
}

int Server::RunMainLoop() {
  sigset_t signals = BlockWorkerSignals();
  thread_alive_ = std::make_unique<std::atomic<bool>[]>(kMaxThreadsPerWorker);
  for (int i = 0; i < kMaxThreadsPerWorker; ++i) thread_alive_[i] = false;
  thread_target_ = config_.threads;
  if (slot_ != nullptr) slot_->pid.store(::getpid(), std::memory_order_relaxed);
  Heartbeat();
  AdjustThreads();

  const pid_t parent = ::getppid();
  int64_t drain_deadline_ns = 0;
  int exit_code = 0;
  while (true) {
    timespec tick{0, kTickNs};
    siginfo_t info;
    int sig = ::sigtimedwait(&signals, &info, &tick);
    Heartbeat();
    if (!HandleSignal(sig, &drain_deadline_ns)) break;
    if (life_hooks_ != nullptr && AbortSignalled()) {
      // Frozen: the master's SIGKILL follows after --abort-grace.
      life_hooks_->WorkerAbort();
      exit_code = 1;
      break;
    }
    if (::getppid() != parent) {
      Log(LogLevel::kWarning) << "master went away; worker exiting";
      exit_code = 1;
      break;
    }
    Housekeeping(MonotonicNs());
    if (DrainFinished(MonotonicNs(), drain_deadline_ns)) break;
  }
  stop_ = true;
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
  if (life_hooks_ != nullptr) life_hooks_->WorkerExit();
  // Threads inside a request are not waited for: the process exits around them.
  return exit_code;
}

}  // namespace wsgid
