#include "ctl/client.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace wsgid::ctl {
namespace {

// The control API answers from the master's own threads, never behind app
// traffic, so a few seconds is already a sick daemon; waiting longer would only
// hide it.
constexpr time_t kConnectTimeoutSeconds = 3;
constexpr time_t kReadTimeoutSeconds = 15;

// Tries a plain connect to learn the errno that cpp-httplib does not report
// ("No such file or directory" and "Permission denied" tell the user what to
// fix; "Connection" does not). Empty when the connect now succeeds.
std::string ProbeConnectError(const Endpoint& endpoint) {
  timeval timeout{kConnectTimeoutSeconds, 0};
  if (endpoint.kind == Endpoint::Kind::kUnix) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return std::strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, endpoint.socket_path.data(),
                endpoint.socket_path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
        0) {
      return std::strerror(errno);
    }
    return "";
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(endpoint.host.c_str(),
                         std::to_string(endpoint.port).c_str(), &hints, &found);
  if (rc != 0)
    return std::string("cannot resolve ") + endpoint.host + ": " +
           gai_strerror(rc);
  std::string error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                         ai->ai_protocol));
    if (!fd.valid()) continue;
    // Linux bounds a blocking connect by the send timeout.
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      error.clear();
      break;
    }
    error = std::strerror(errno);
  }
  ::freeaddrinfo(found);
  return error;
}

std::string DescribeError(httplib::Error error, const Endpoint& endpoint) {
  switch (error) {
    case httplib::Error::Connection: {
      std::string reason = ProbeConnectError(endpoint);
      return reason.empty() ? "connection failed" : reason;
    }
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer (the connection closed or the read timed out)";
    case httplib::Error::Write:
      return "the request could not be sent";
    default:
      return "request failed (" + httplib::to_string(error) + ")";
  }
}

}  // namespace

StatusOr<ApiResponse> ControlClient::Send(
    const std::string& method, const std::string& path,
    const std::optional<nlohmann::json>& body) {
  // A fresh connection per request: over a local socket it costs nothing, and
  // it spares us racing the server's keep-alive timeout.
  bool unix_socket = endpoint_.kind == Endpoint::Kind::kUnix;
  httplib::Client client = unix_socket
                               ? httplib::Client(endpoint_.socket_path, 80)
                               : httplib::Client(endpoint_.Describe());
  if (unix_socket) client.set_address_family(AF_UNIX);
  if (endpoint_.tls) {  // issue 17: the daemon's certificate is verified
    if (!endpoint_.cacert.empty()) client.set_ca_cert_path(endpoint_.cacert);
    client.enable_server_certificate_verification(true);
  }
  client.set_connection_timeout(kConnectTimeoutSeconds);
  client.set_read_timeout(kReadTimeoutSeconds);
  client.set_write_timeout(kReadTimeoutSeconds);
  client.set_keep_alive(false);

  httplib::Headers headers = {{"Accept", "application/json"}};
  // A socket path is no host name; name the daemon instead of sending the path.
  if (unix_socket) headers.emplace("Host", "wsgid");
  if (!endpoint_.token.empty()) {
    headers.emplace("Authorization", "Bearer " + endpoint_.token);
  }
  std::string payload = body ? body->dump() : "";
  const char* content_type = "application/json";

  httplib::Result result(nullptr, httplib::Error::Unknown);
  if (method == "GET") {
    result = client.Get(path, headers);
  } else if (method == "POST") {
    result = client.Post(path, headers, payload, content_type);
  } else if (method == "PUT") {
    result = client.Put(path, headers, payload, content_type);
  } else {
    return Status::InvalidArgument("unsupported method " + method);
  }
  if (!result) {
    return Status::Unavailable("cannot reach wsgid at " + endpoint_.Describe() +
                               ": " + DescribeError(result.error(), endpoint_));
  }
  ApiResponse response;
  response.status = result->status;
  response.raw = result->body;
  if (!response.raw.empty()) {
    response.body = nlohmann::json::parse(response.raw, nullptr,
                                          /*allow_exceptions=*/false);
    if (response.body.is_discarded()) response.body = nullptr;
  }
  return response;
}

}  // namespace wsgid::ctl
