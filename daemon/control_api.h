// ControlApi: the REST control API of the master (/v1, JSON in and out), on a
// UNIX socket (mode 0600 by default: its permissions are the authentication)
// and optionally on TCP, where every request must carry `Authorization: Bearer
// <token>` (compared in constant time). Errors are {"error": code, "detail":
// text} with 400 (malformed), 401, 404, 405 (wrong method), 409 (conflict), 422
// (invalid value). Every change is logged with what was asked and by whom.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "daemon/control_backend.h"

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
    int max_workers = 32;
    std::string version;
  };

  ControlApi(ControlBackend* backend, Options options);
  ~ControlApi();

  Status Start();
  void Stop();

  // The answer to one API request (method, path, body, whether it came
  // authenticated through TCP or the UNIX socket): status and JSON text.
  // Exposed for tests.
  std::pair<int, std::string> Dispatch(const std::string& method,
                                       const std::string& path,
                                       const std::string& body,
                                       const std::string& client);

 private:
  void Serve(const httplib::Request& req, httplib::Response& res, bool tcp);

  ControlBackend* backend_;
  Options options_;
  std::unique_ptr<httplib::Server> unix_server_;
  std::unique_ptr<httplib::Server> tcp_server_;
  std::thread unix_thread_;
  std::thread tcp_thread_;
  int64_t started_ns_;
};

// Compares two strings in time that depends only on their lengths, not their
// contents.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace wsgid
