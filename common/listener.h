// Listener: parsing bind addresses and opening listening sockets.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

// A parsed -b value.
struct BindAddress {
  enum class Kind { kTcp, kUnix } kind = Kind::kTcp;
  std::string
      host;  // numeric IPv4/IPv6 address or a name (kTcp); socket path (kUnix)
  int port = 0;  // kTcp only
  // issue 17: how a TCP bind was written: "http://HOST:PORT" keeps plain HTTP
  // when --certfile turns TLS on, "https://" insists on TLS, neither follows
  // --certfile.
  enum class Scheme { kDefault, kHttp, kHttps } scheme = Scheme::kDefault;
  std::string ToString() const;
};

// Parses [http://|https://]HOST:PORT, [V6]:PORT, :PORT (all IPv4 interfaces),
// PORT, unix:/path.
StatusOr<BindAddress> ParseBindAddress(const std::string& text);

// Opens a non-blocking, close-on-exec listening socket. TCP gets SO_REUSEADDR;
// a UNIX socket path left over from an earlier run is removed first (only if it
// is a socket). `reuse_port` (--reuse-port) sets SO_REUSEPORT on TCP too.
StatusOr<UniqueFd> OpenListener(const BindAddress& address, int backlog,
                                bool reuse_port = false);

// issue 17: whether a listening socket serves TLS: --certfile given, a TCP
// socket, and no bind written http:// with its port.
bool ListenerUsesTls(int fd, bool tls_enabled,
                     const std::vector<std::string>& binds);

// "127.0.0.1:8000", "[::1]:8000" or "unix:/path" of a bound socket; empty on
// error.
std::string DescribeSocket(int fd);

}  // namespace wsgid
