#include "ctl/endpoint.h"

#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include "common/control_socket.h"
#include "common/token_file.h"

namespace wsgid::ctl {
namespace {

// Accepts http[s]://HOST[:PORT][/] with HOST a name, an IPv4 address or
// [IPv6].
Status ParseUrl(const std::string& url, Endpoint* endpoint) {
  endpoint->tls = url.rfind("https://", 0) == 0;
  const std::string scheme = endpoint->tls ? "https://" : "http://";
  if (url.rfind(scheme, 0) != 0) {
    return Status::InvalidArgument("--url " + url +
                                   ": expected http://HOST:PORT or "
                                   "https://HOST:PORT");
  }
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    return Status::InvalidArgument("--url " + url +
                                   ": expected no path after HOST:PORT");
  }
  std::string host;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) {
      return Status::InvalidArgument("--url " + url +
                                     ": unterminated [IPv6] address");
    }
    host = rest.substr(1, close - 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Status::InvalidArgument("--url " + url +
                                       ": expected :PORT after ]");
      }
      port = after.substr(1);
    }
  } else {
    size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (host.empty())
    return Status::InvalidArgument("--url " + url + ": no host");
  endpoint->host = host;
  endpoint->port = endpoint->tls ? 443 : 80;
  if (!port.empty()) {
    int value = 0;
    auto [end, ec] =
        std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      return Status::InvalidArgument("--url " + url + ": port '" + port +
                                     "' is not a number in 1..65535");
    }
    endpoint->port = value;
  }
  return Status::Ok();
}

}  // namespace

std::string Endpoint::Describe() const {
  if (kind == Kind::kUnix) return socket_path;
  bool v6 = host.find(':') != std::string::npos;
  return (tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

StatusOr<Endpoint> ResolveEndpoint(const EndpointRequest& request) {
  Endpoint endpoint;
  if (request.url && request.socket) {
    return Status::InvalidArgument(
        "--url and --socket exclude each other: pick one");
  }
  if (request.url) {
    endpoint.kind = Endpoint::Kind::kTcp;
    if (Status s = ParseUrl(*request.url, &endpoint); !s.ok()) return s;
    if (request.cacert) endpoint.cacert = *request.cacert;
  } else {
    endpoint.kind = Endpoint::Kind::kUnix;
    if (request.socket) {
      endpoint.socket_path = *request.socket;
    } else if (request.env_socket && !request.env_socket->empty()) {
      endpoint.socket_path = *request.env_socket;
    } else {
      endpoint.socket_path = DefaultControlSocketPath();
    }
    if (endpoint.socket_path.empty()) {
      return Status::InvalidArgument("--socket needs a path");
    }
    if (endpoint.socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::InvalidArgument(
          "socket path " + endpoint.socket_path + " is longer than " +
          std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
          " bytes, the limit of a UNIX socket address");
    }
  }
  if (request.token_file) {
    auto token = ReadTokenFile(*request.token_file);
    if (!token.ok()) return token.status();
    endpoint.token = std::move(token).value();
  }
  return endpoint;
}

}  // namespace wsgid::ctl
