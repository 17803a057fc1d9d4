// ControlApi: the REST control API of the master (/v1, JSON in and out), on a
// UNIX socket (mode 0600 by default: its permissions are the authentication)
// and optionally on TCP, where every request must carry `Authorization: Bearer
// <token>` (compared in constant time). Errors are {"error": code, "detail":
// text} with 400 (malformed), 401, 404, 405 (wrong method), 409 (conflict), 422
// (invalid value). Every change is logged with what was asked and by whom.
//
// This class owns the servers and the authentication; what a request means is
// the route table's (daemon/control_routes.h) and its handlers'
// (daemon/control_handlers.h). Start and Stop are called by the supervisor's
// thread; requests are answered on the servers' threads, concurrently.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "daemon/control_backend.h"
#include "daemon/control_handlers.h"
#include "daemon/control_json.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace wsgid {

class ControlApi {
 public:
  struct Options {
    std::string socket_path;  // empty: no UNIX socket
    int socket_mode = 0600;
    std::string tcp_bind;  // empty: no TCP
    std::string token;     // required with tcp_bind
    // issue 17: TLS on tcp_bind (cpp-httplib's SSLServer) when both are set.
    std::string certfile;
    std::string keyfile;
    int max_workers = 32;
    std::string version;
  };

  // `backend` is not owned and must outlive this object.
  ControlApi(ControlBackend* backend, Options options);
  ~ControlApi();

  // Listens on the UNIX socket and/or TCP, each served on a thread of its own.
  // A TCP port without a token is refused (kInvalidArgument).
  Status Start();
  // Stops the servers, joins their threads and removes the socket file.
  // Idempotent.
  void Stop();

  // The answer to one authenticated API request (`client` names who sent it,
  // for the log): its route's handler's, or 404/405. Touches no socket, so
  // tests and the fuzzer call it directly. Thread-safe.
  ApiAnswer Dispatch(const std::string& method, const std::string& path,
                     const std::string& body, const std::string& client) const;

 private:
  void Serve(const httplib::Request& req, httplib::Response& res, bool tcp);

  Options options_;
  ControlContext context_;
  std::unique_ptr<httplib::Server> unix_server_;
  std::unique_ptr<httplib::Server> tcp_server_;
  std::thread unix_thread_;
  std::thread tcp_thread_;
};

// Compares two strings in time that depends only on their lengths, not their
// contents.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace wsgid
