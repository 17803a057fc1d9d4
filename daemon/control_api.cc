#include "daemon/control_api.h"

#include <httplib.h>
#include <unistd.h>

#include "daemon/control_routes.h"
#include "daemon/http_util.h"

namespace wsgid {
namespace {

// Small limits (a 16 KiB body at most), and every method and path to
// `handler`, so that the route table, not the server, decides between 404
// and 405.
template <typename Handler>
void ConfigureControlServer(httplib::Server* server, Handler handler) {
  ConfigureSmallServer(server, 16 * 1024);
  server->Get(".*", handler);
  server->Post(".*", handler);
  server->Put(".*", handler);
  server->Delete(".*", handler);
  server->Patch(".*", handler);
}

}  // namespace

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& probe =
      a.size() == b.size() ? b : a;  // same length as a either way
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ probe[i]);
  return diff == 0;
}

ControlApi::ControlApi(ControlBackend* backend, Options options)
    : options_(std::move(options)),
      context_{backend, options_.max_workers, options_.version} {}

ControlApi::~ControlApi() { Stop(); }

Status ControlApi::Start() {
  auto handler_for = [this](bool tcp) {
    return [this, tcp](const httplib::Request& req, httplib::Response& res) {
      Serve(req, res, tcp);
    };
  };
  if (!options_.socket_path.empty()) {
    unix_server_ = std::make_unique<httplib::Server>();
    ConfigureControlServer(unix_server_.get(), handler_for(false));
    if (Status s = ListenUnix(unix_server_.get(), options_.socket_path,
                              options_.socket_mode, &unix_thread_);
        !s.ok())
      return s;
  }
  if (!options_.tcp_bind.empty()) {
    if (options_.token.empty())
      return Status::InvalidArgument(
          "--control-bind needs --control-token-file (a TCP control port "
          "without a token would let anyone who reaches it steer wsgid)");
    if (!options_.certfile.empty()) {
      tcp_server_ = std::make_unique<httplib::SSLServer>(
          options_.certfile.c_str(), options_.keyfile.c_str());
      if (!tcp_server_->is_valid())
        return Status::InvalidArgument(
            "--control-certfile/--control-keyfile: cannot load them");
    } else {
      tcp_server_ = std::make_unique<httplib::Server>();
    }
    ConfigureControlServer(tcp_server_.get(), handler_for(true));
    if (Status s =
            ListenTcp(tcp_server_.get(), options_.tcp_bind, &tcp_thread_);
        !s.ok())
      return s;
  }
  return Status::Ok();
}

void ControlApi::Stop() {
  if (unix_server_) unix_server_->stop();
  if (tcp_server_) tcp_server_->stop();
  if (unix_thread_.joinable()) unix_thread_.join();
  if (tcp_thread_.joinable()) tcp_thread_.join();
  if (unix_server_ && !options_.socket_path.empty())
    ::unlink(options_.socket_path.c_str());
  unix_server_.reset();
  tcp_server_.reset();
}

void ControlApi::Serve(const httplib::Request& req, httplib::Response& res,
                       bool tcp) {
  ApiAnswer answer;
  if (tcp && !ConstantTimeEquals(req.get_header_value("Authorization"),
                                 "Bearer " + options_.token)) {
    answer = ErrorAnswer(Status::Error(StatusCode::kUnauthenticated,
                                       "missing or wrong bearer token"));
    res.set_header("WWW-Authenticate", "Bearer");
  } else {
    std::string client =
        tcp ? req.remote_addr + ":" + std::to_string(req.remote_port)
            : "the control socket";
    answer = Dispatch(req.method, req.path, req.body, client);
  }
  res.status = answer.status;
  res.set_content(answer.json + "\n", "application/json");
}

ApiAnswer ControlApi::Dispatch(const std::string& method,
                               const std::string& path, const std::string& body,
                               const std::string& client) const {
  auto found = FindRoute(ControlRoutes(), method, path);
  if (!found.ok()) return ErrorAnswer(found.status());
  ControlRequest request{method, path, body, client, std::move(found->params)};
  return found->route->handler(context_, request);
}

}  // namespace wsgid
