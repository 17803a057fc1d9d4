// Server: the worker's HTTP/1.1 connection engine.
//
// Leader/followers: every app thread waits on one shared epoll set holding the
// listening sockets (EPOLLEXCLUSIVE) and the parked connections (EPOLLONESHOT).
// The thread that wakes accepts or reads, parses, calls the RequestHandler
// inline, writes, and parks the connection again. No hand-off between threads;
// a slow request holds only its own thread; idle and half-received connections
// hold none. Only idle threads wait in epoll, so a worker whose threads are all
// busy accepts nothing and the kernel hands new connections to another worker.
//
// The main thread runs RunMainLoop(): signals (sigtimedwait, no handlers),
// the heartbeat, expiry of idle and slow connections, the load it publishes to
// the master, and the graceful drain.
//
// The rooms it is built from: ListenerSet (the listening sockets and
// accepting), ConnectionSet (open connections and their states, over a
// ConnectionTable, with the ConnectionBalance that sheds keep-alives above the
// master's quota) and RequestLoop (serving the requests of one connection).
//
// Threading: Init and RunMainLoop are called once, from the main thread;
// draining() from any thread.
#pragma once

#include <signal.h>

#include <atomic>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/scoreboard.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "worker/connection.h"
#include "worker/connection_set.h"
#include "worker/http_parser.h"
#include "worker/listener_set.h"
#include "worker/request_handler.h"
#include "worker/request_loop.h"
#include "worker/tls_context.h"
#include "worker/worker_life_hooks.h"

namespace wsgid {

class Server {
 public:
  // REQUIRES: listen_fds are listening, non-blocking sockets; handler and slot
  // (the worker's scoreboard slot, or nullptr when running alone) outlive the
  // server.
  // `tls_context`: built by the caller when a listener serves TLS (null: built
  // here if needed).
  Server(const Config& config, std::vector<int> listen_fds,
         RequestHandler* handler, WorkerSlot* slot,
         std::unique_ptr<TlsContext> tls_context = nullptr);
  ~Server();

  Status Init();
  // Starts the app threads and runs the signal/housekeeping loop until the
  // worker stops. Returns the exit code for the process.
  int RunMainLoop();

  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  // Gunicorn's worker_int, worker_abort and worker_exit (null: none).
  // REQUIRES: set before RunMainLoop; outlives the server.
  void SetLifeHooks(WorkerLifeHooks* hooks) { life_hooks_ = hooks; }

 private:
  // Main loop steps.
  // Blocks the signals the main loop waits for, in every thread started later.
  static sigset_t BlockWorkerSignals();
  // Stamps the heartbeat: the main loop never waits for the GIL, so a stale
  // one means the process itself is stuck or stopped.
  void Heartbeat();
  // Acts on a signal (-1: none arrived this turn); false when the worker must
  // stop now.
  bool HandleSignal(int sig, int64_t* drain_deadline_ns);
  // Resumes paused accepting, expires connections, publishes the load and
  // meets the master's thread target.
  void Housekeeping(int64_t now_ns);
  // Whether a drain is over: every connection closed, or the graceful timeout
  // passed.
  bool DrainFinished(int64_t now_ns, int64_t drain_deadline_ns);
  // Stops accepting, serves what already waits in the backlog, and shortens
  // the deadlines of idle connections.
  void StartDrain();
  // Publishes the open connections and samples the requests waiting for a
  // thread into the scoreboard (main loop, every turn).
  void PublishLoad(int64_t now_ns);

  // App threads.
  void AppThread(int index);
  // Starts or retires app threads to meet the target the master set in the
  // scoreboard (a retiring thread leaves after its current request).
  void AdjustThreads();
  void HandleEvent(uint64_t data, uint32_t events);
  void AcceptOne(size_t listener_index);
  // Accepts one waiting connection (owned by the caller, kActive); nullptr when
  // none is waiting.
  Connection* Accept(size_t listener_index);
  // Sets up a new connection's preface (PROXY header, TLS); false when it was
  // closed instead.
  bool BeginPreface(Connection* conn, size_t listener_index);
  // Builds the TLS context and decides which listeners serve TLS.
  Status InitTls();

  const Config& config_;
  std::vector<int> listen_fds_;  // handed to listeners_ by Init
  RequestHandler* handler_;
  WorkerSlot* slot_;
  WorkerLifeHooks* life_hooks_ = nullptr;
  // Only one app thread can ever run (--max-threads 1): connections stay
  // registered edge-triggered instead of EPOLLONESHOT re-armed per request.
  // An event can then arrive for a connection another thread holds (the main
  // thread's drain or expiry), which ConnectionSet::Claim already waits out.
  const bool persistent_registration_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;  // eventfd: readable once the threads must stop
  std::unique_ptr<ListenerSet> listeners_;
  std::unique_ptr<ConnectionSet> connections_;
  std::unique_ptr<RequestLoop> request_loop_;
  // issue 17: the TLS context (null without --certfile) and, per listener,
  // whether it serves TLS and the stage its connections start in.
  std::unique_ptr<TlsContext> tls_context_;
  std::vector<bool> listener_tls_;
  std::unique_ptr<ConnectionPreface> preface_;
  int64_t last_load_sample_ns_ = 0;  // main thread only
  // App thread i runs while i < thread_target_; thread_alive_[i] says whether
  // it is running (it clears it on its way out).
  std::atomic<int> thread_target_{0};
  std::unique_ptr<std::atomic<bool>[]> thread_alive_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace wsgid
