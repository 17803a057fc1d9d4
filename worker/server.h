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
// expiry of idle and slow connections, and the graceful drain.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/scoreboard.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "worker/connection.h"
#include "worker/http_parser.h"

namespace wsgid {

// What became of one request, for the connection and the scoreboard.
struct RequestOutcome {
  bool keep_alive = false;  // the connection can serve another request
  int status = 0;           // the status sent (0: none, the client went away)
  int64_t body_bytes = 0;   // response body bytes sent
  bool app_exception = false;  // the app raised
};

// What the server calls for each parsed request. Implementations are
// thread-safe.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called on each app thread before its first request and after its last one.
  virtual void ThreadStart() {}
  // `retired`: the thread leaves a running worker (fewer threads wanted), not
  // one that is exiting.
  virtual void ThreadStop(bool retired) { (void)retired; }
  // Serves one request (the head is consumed from conn->in; the body follows
  // there). `keep_alive` says whether the server would keep the connection.
  virtual RequestOutcome Handle(Connection* conn, RequestHead* head,
                                bool keep_alive) = 0;
};

class Server {
 public:
  // REQUIRES: listen_fds are listening, non-blocking sockets; handler and slot
  // (the worker's scoreboard slot, or nullptr when running alone) outlive the
  // server.
  Server(const Config& config, std::vector<int> listen_fds,
         RequestHandler* handler, WorkerSlot* slot);
  ~Server();

  Status Init();
  // Starts the app threads and runs the signal/housekeeping loop until the
  // worker stops. Returns the exit code for the process.
  int RunMainLoop();

  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  struct Slot;
  class Table;

  void AppThread(int index);
  // Starts or retires app threads to meet the target the master set in the
  // scoreboard (a retiring thread leaves after its current request).
  void AdjustThreads();
  void HandleEvent(uint64_t data, uint32_t events);
  void AcceptOne(int listener_index);
  // Accepts one waiting connection (owned by the caller, kActive); nullptr when
  // none is waiting.
  Connection* Accept(int listener_index);
  // Serves requests on an owned connection until it must wait (parked) or is
  // closed.
  void Serve(Connection* conn);
  // Whether a request with this head, `buffered` body bytes already received,
  // should wait parked for the rest of its body before the app is called, so
  // a client slow to send a small body holds no app thread.
  bool AwaitsBody(const RequestHead& head, size_t buffered) const;
  // Runs the handler for one parsed request, reporting it in the scoreboard.
  bool Dispatch(Connection* conn, RequestHead* head, bool keep_alive);
  void Park(Connection* conn);
  void Close(Connection* conn);
  void LingerClose(Connection* conn);
  // Closes parked connections whose deadline passed (idle or too slow to send a
  // head).
  void ExpireConnections();
  void StartDrain();
  // Adds (on) or removes every listener from the epoll set. A failed add
  // leaves none registered and pauses accepting (the main loop retries).
  void SetListening(bool on);
  // REQUIRES: listen_mu_ held.
  bool AddListener(size_t i);
  void RemoveListeners();
  // Moves this worker to the back of listener i's queue of waiters, so the
  // kernel offers the next connection to the other workers first.
  void RequeueListener(size_t i);
  // Whether this keep-alive connection should close after its response
  // because the worker has held more than the master's quota of connections
  // for a while (see may_shed_); marks it so (see Connection::shed). Never on
  // a connection's first request: the kernel has just chosen this worker for
  // it, and the client would only reconnect.
  bool ShedForBalance(Connection* conn);
  // The master's connection quota for this worker; 0: none.
  int ConnectionQuota() const;
  // Publishes the open connections and samples the requests waiting for a
  // thread into the scoreboard (main loop, every turn).
  void PublishLoad();
  // Stops accepting for a moment (out of descriptors, a failed epoll_ctl);
  // the main loop turns accepting back on.
  void PauseAccepting();

  const Config& config_;
  HttpLimits limits_;
  std::vector<int> listen_fds_;
  RequestHandler* handler_;
  WorkerSlot* slot_;
  // Only one app thread can ever run (--max-threads 1): connections stay
  // registered edge-triggered instead of EPOLLONESHOT re-armed per request.
  // An event can then arrive for a connection another thread holds (the main
  // thread's drain or expiry), which HandleEvent's claim already waits out.
  const bool persistent_registration_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;  // eventfd: readable once the threads must stop
  // Every open connection, level-triggered and never waited on: polled with a
  // zero timeout, it lists the connections with bytes unread, i.e. requests
  // that wait for a thread while they are parked.
  UniqueFd readable_probe_fd_;
  int64_t last_load_sample_ns_ = 0;
  // Since when the open connections have been above the master's quota (0:
  // not above). The quota trails a burst of new connections by a loop turn or
  // two; only an excess that lasts sheds connections.
  int64_t over_quota_since_ns_ = 0;
  std::atomic<bool> may_shed_{false};
  std::unique_ptr<Table> table_;
  // App thread i runs while i < thread_target_; thread_alive_[i] says whether
  // it is running (it clears it on its way out).
  std::atomic<int> thread_target_{0};
  std::unique_ptr<std::atomic<bool>[]> thread_alive_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> open_connections_{0};
  std::atomic<int> busy_threads_{0};
  std::atomic<int> shedding_{0};  // connections marked shed, not closed yet
  std::atomic<bool> listening_{false};
  std::atomic<int64_t> accept_paused_until_ns_{0};
  std::mutex listen_mu_;  // serialises adding/removing the listeners
};

}  // namespace wsgid
