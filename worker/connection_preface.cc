#include "worker/connection_preface.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "common/log.h"
#include "worker/proxy_protocol.h"

namespace wsgid {
namespace {

// Receives exactly `n` bytes that a peek showed are there.
bool ReceiveExactly(int fd, char* buffer, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, buffer + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

ConnectionPreface::ConnectionPreface(const Config& config)
    : config_(config),
      proxy_allow_from_(
          AddressAllowList::FromChecked(config.proxy_allow_from)) {}

Connection::Stage ConnectionPreface::FirstStage(bool tls) const {
  if (config_.proxy_protocol) return Connection::Stage::kProxyHeader;
  return tls ? Connection::Stage::kHandshake : Connection::Stage::kHttp;
}

bool ConnectionPreface::ProxyAllowed(const Connection& conn) const {
  return conn.is_unix || proxy_allow_from_.Allows(conn.remote_addr);
}

void ConnectionPreface::EnterNextStage(Connection* conn) {
  conn->stage = conn->tls != nullptr ? Connection::Stage::kHandshake
                                     : Connection::Stage::kHttp;
}

ConnectionPreface::Step ConnectionPreface::Advance(Connection* conn,
                                                   double io_timeout) const {
  if (conn->stage == Connection::Stage::kProxyHeader) {
    Step step = ReadProxyHeader(conn);
    if (step != Step::kReady) return step;
  }
  if (conn->stage == Connection::Stage::kHandshake)
    return Handshake(conn, io_timeout);
  return Step::kReady;
}

ConnectionPreface::Step ConnectionPreface::ReadProxyHeader(
    Connection* conn) const {
  if (!ProxyAllowed(*conn)) {
    if (config_.proxy_protocol_optional) {  // served as a direct client
      EnterNextStage(conn);
      return Step::kReady;
    }
    Log(LogLevel::kDebug) << "PROXY header expected from " << conn->remote_addr
                          << ", which --proxy-allow-from does not allow";
    return Step::kClose;
  }
  thread_local std::string peeked;
  peeked.resize(kMaxProxyHeaderBytes);
  size_t room = kMaxProxyHeaderBytes - conn->in.size();
  ssize_t n;
  do {
    n = ::recv(conn->fd, peeked.data(), room, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Step::kWait;
  if (n <= 0) return Step::kClose;
  std::string candidate = conn->in;
  candidate.append(peeked.data(), static_cast<size_t>(n));
  ProxyHeader header;
  size_t consumed = 0;
  std::string error;
  ProxyParse parse = ParseProxyHeader(candidate, &header, &consumed, &error);
  if (parse == ProxyParse::kError && config_.proxy_protocol_optional &&
      !MayBeProxyHeader(candidate)) {
    // No header: what was taken so far is the request's first bytes.
    EnterNextStage(conn);
    return Step::kReady;
  }
  if (parse == ProxyParse::kError) {
    Log(LogLevel::kDebug) << "PROXY header from " << conn->remote_addr << ": "
                          << error;
    return Step::kClose;
  }
  // Every byte peeked belongs to the header while it is incomplete, so
  // taking them keeps level-triggered epoll from reporting them again; a
  // complete header is taken up to its end, not a byte further.
  size_t take = parse == ProxyParse::kNeedMore ? static_cast<size_t>(n)
                                               : consumed - conn->in.size();
  if (!ReceiveExactly(conn->fd, peeked.data(), take)) return Step::kClose;
  if (parse == ProxyParse::kNeedMore) {
    conn->in.append(peeked.data(), take);
    return conn->in.size() < kMaxProxyHeaderBytes ? Step::kWait : Step::kClose;
  }
  conn->in.clear();
  if (header.has_address) {
    conn->remote_addr = header.source_addr;
    conn->remote_port = header.source_port;
    conn->is_unix = false;
  }
  EnterNextStage(conn);
  return Step::kReady;
}

ConnectionPreface::Step ConnectionPreface::Handshake(Connection* conn,
                                                     double io_timeout) const {
  while (true) {
    std::string error;
    switch (conn->tls->DoHandshake(&error)) {
      case TlsTransport::Handshake::kDone:
        conn->stage = Connection::Stage::kHttp;
        return Step::kReady;
      case TlsTransport::Handshake::kWantRead:
        return Step::kWait;
      case TlsTransport::Handshake::kWantWrite: {
        // The server's flight did not fit the socket's send buffer (rare:
        // a long chain on a fresh socket): wait for room, bounded.
        pollfd p{conn->fd, POLLOUT, 0};
        int ms = static_cast<int>(std::ceil(io_timeout * 1000));
        if (::poll(&p, 1, ms) <= 0) return Step::kClose;
        continue;
      }
      case TlsTransport::Handshake::kFailed:
        Log(LogLevel::kDebug) << "TLS handshake with " << conn->remote_addr
                              << " failed: " << error;
        return Step::kClose;
    }
  }
}

}  // namespace wsgid
