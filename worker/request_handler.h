// RequestHandler: what the HTTP engine calls for each parsed request (the WSGI
// layer implements it), and RequestOutcome, what became of the request.
//
// Threading: implementations are thread-safe; the engine calls them from its
// app threads, each on a connection it owns.
#pragma once

#include <cstdint>

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

}  // namespace wsgid
