// RequestLoop: serves the requests of one connection an app thread owns, until
// the connection must wait for bytes (parked) or is closed.
//
// For each request: parse the head (a bad one is answered and the connection
// closed), refuse a body above --limit-request-body, wait parked for the rest
// of a small body (so a client slow to send it holds no app thread), else call
// the RequestHandler inline and record the request in the thread's scoreboard
// entry. Pipelined requests already buffered are served in turn.
//
// Threading: Serve runs on app threads, any number at once, each on a
// connection it owns (see ConnectionSet). BindThread sets the calling thread's
// scoreboard entry.
// Ownership: borrows the Config, handler, worker slot, connection set and the
// server's draining flag, which all outlive it.
#pragma once

#include <atomic>
#include <cstddef>

#include "common/config.h"
#include "common/scoreboard.h"
#include "worker/connection.h"
#include "worker/connection_preface.h"
#include "worker/connection_set.h"
#include "worker/http_parser.h"
#include "worker/request_handler.h"

namespace wsgid {

class RequestLoop {
 public:
  // `slot`: the worker's scoreboard slot, or nullptr when running alone.
  RequestLoop(const Config& config, RequestHandler* handler, WorkerSlot* slot,
              ConnectionSet* connections, const std::atomic<bool>* draining);
  ~RequestLoop();

  // The calling app thread's scoreboard entry (nullptr: none), for the
  // requests it serves from now on.
  static void BindThread(ThreadSlot* thread_slot);

  // Serves requests on an owned connection until it is parked or closed; the
  // caller must not touch it afterwards. Called when the socket is readable
  // (or freshly accepted: with its request usually waiting). A connection
  // still in its preface (PROXY header, TLS handshake) gets through it first.
  void Serve(Connection* conn);

 private:
  // Advances the preface; false when the connection was parked or closed.
  bool PassPreface(Connection* conn);
  // What became of the buffered bytes.
  enum class Step {
    kNextRequest,  // a request was served; the connection stays open
    kReadMore,     // a partial head, or a body still on its way
    kFinished,     // the connection was closed (or is closing)
  };

  // Parses and serves one request from the connection's pending bytes.
  // REQUIRES: conn->Pending() is not empty.
  Step ServePending(Connection* conn);
  // Whether a request with this head, `buffered` body bytes already received,
  // should wait parked for the rest of its body before the app is called.
  bool AwaitsBody(const RequestHead& head, size_t buffered) const;
  // Runs the handler for one parsed request, reporting it in the scoreboard.
  // Returns whether the connection can serve another request.
  bool Dispatch(Connection* conn, RequestHead* head, bool keep_alive);
  // Records a finished request in the worker's and the thread's slots.
  void RecordRequest(const RequestHead& head, int status, int64_t body_bytes,
                     bool app_exception);
  bool draining() const { return draining_->load(std::memory_order_relaxed); }

  const Config& config_;
  const HttpLimits limits_;
  const ConnectionPreface preface_;
  RequestHandler* handler_;
  WorkerSlot* slot_;
  ConnectionSet* connections_;
  const std::atomic<bool>* draining_;
};

}  // namespace wsgid
