#include "common/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace wsgid {

std::string BindAddress::ToString() const {
  if (kind == Kind::kUnix) return "unix:" + host;
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

StatusOr<BindAddress> ParseBindAddress(const std::string& written) {
  BindAddress a;
  std::string text = written;
  for (auto [prefix, scheme] :
       {std::pair{"http://", BindAddress::Scheme::kHttp},
        std::pair{"https://", BindAddress::Scheme::kHttps}}) {
    std::string_view p = prefix;
    if (text.compare(0, p.size(), p) == 0) {
      text.erase(0, p.size());
      a.scheme = scheme;
    }
  }
  if (text.rfind("unix:", 0) == 0) {
    a.kind = BindAddress::Kind::kUnix;
    a.host = text.substr(5);
    if (a.host.empty())
      return Status::InvalidArgument("bind '" + text + "': empty socket path");
    if (a.host.size() >= sizeof(sockaddr_un::sun_path))
      return Status::InvalidArgument("bind '" + text +
                                     "': socket path too long");
    return a;
  }
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() ||
        text[close + 1] != ':')
      return Status::InvalidArgument("bind '" + text +
                                     "': expected [IPV6]:PORT");
    a.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    a.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (a.host.find(':') != std::string::npos)
      return Status::InvalidArgument("bind '" + text +
                                     "': write IPv6 addresses as [ADDR]:PORT");
    if (a.host.empty()) a.host = "0.0.0.0";
  } else {
    a.host = "0.0.0.0";
    port_text = text;
  }
  if (a.host.empty())
    return Status::InvalidArgument("bind '" + text + "': empty host");
  long port = 0;
  bool valid = !port_text.empty() && port_text.size() <= 5;
  for (char c : port_text) {
    if (c < '0' || c > '9') valid = false;
    if (valid) port = port * 10 + (c - '0');
  }
  if (!valid || port > 65535)
    return Status::InvalidArgument("bind '" + text + "': invalid port '" +
                                   port_text + "'");
  a.port = static_cast<int>(port);
  return a;
}

namespace {

StatusOr<UniqueFd> OpenUnixListener(const BindAddress& address, int backlog) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno("socket", errno);
  struct stat st;
  if (::lstat(address.host.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::InvalidArgument("bind " + address.ToString() +
                                     ": path exists and is not a socket");
    ::unlink(address.host.c_str());
  }
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, address.host.c_str(), address.host.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0)
    return Status::FromErrno("bind " + address.ToString(), errno);
  if (::listen(fd.get(), backlog) < 0)
    return Status::FromErrno("listen " + address.ToString(), errno);
  return fd;
}

}  // namespace

StatusOr<UniqueFd> OpenListener(const BindAddress& address, int backlog,
                                bool reuse_port) {
  if (address.kind == BindAddress::Kind::kUnix)
    return OpenUnixListener(address, backlog);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc =
          ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
      rc != 0)
    return Status::Unavailable("bind " + address.ToString() + ": " +
                               ::gai_strerror(rc));
  Status last =
      Status::Unavailable("bind " + address.ToString() + ": no address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family,
                         ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = Status::FromErrno("socket", errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port)
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) < 0) {
      last = Status::FromErrno("bind " + address.ToString(), errno);
      continue;
    }
    if (::listen(fd.get(), backlog) < 0) {
      last = Status::FromErrno("listen " + address.ToString(), errno);
      continue;
    }
    ::freeaddrinfo(found);
    return fd;
  }
  ::freeaddrinfo(found);
  return last;
}

bool ListenerUsesTls(int fd, bool tls_enabled,
                     const std::vector<std::string>& binds) {
  if (!tls_enabled) return false;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return false;
  int port;
  if (ss.ss_family == AF_INET)
    port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  else if (ss.ss_family == AF_INET6)
    port = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  else
    return false;  // UNIX sockets: a local proxy in front speaks plain HTTP
  for (const std::string& bind : binds) {
    auto address = ParseBindAddress(bind);
    if (address.ok() && address->scheme == BindAddress::Scheme::kHttp &&
        address->port == port)
      return false;
  }
  return true;
}

std::string DescribeSocket(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return "";
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) +
           "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  if (ss.ss_family == AF_UNIX) {
    auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
    return std::string("unix:") + sun->sun_path;
  }
  return "";
}

}  // namespace wsgid
