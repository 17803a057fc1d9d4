// ConnectionPreface: what a connection must get through before its first
// HTTP byte (issue 17): the PROXY protocol header (--proxy-protocol), then the
// TLS handshake (a TLS listener). Runs on the app thread that owns the
// connection, never waiting: when bytes are missing it says so and the
// connection is parked in epoll like a slow request head (--header-timeout
// bounds a stalled header or handshake), so neither holds an app thread.
//
// The PROXY header is read without taking a byte beyond it (peeked, then
// received up to its end), so the TLS handshake or HTTP parser behind it
// starts on a clean stream. A peer not in --proxy-allow-from, a malformed or
// truncated header, or none at all (unless --proxy-protocol-optional) closes
// the connection before the app is called; the reason is logged at debug.
//
// Thread-safe: const after construction; borrows the Config (its
// --proxy-allow-from checked by the settings).
#pragma once

#include <string>
#include <vector>

#include "common/address_allow_list.h"
#include "common/config.h"
#include "worker/connection.h"

namespace wsgid {

class ConnectionPreface {
 public:
  enum class Step { kReady, kWait, kClose };

  explicit ConnectionPreface(const Config& config);

  // The stage a freshly accepted connection starts in (`tls`: its listener
  // serves TLS).
  Connection::Stage FirstStage(bool tls) const;

  // Advances the connection's preface as far as the bytes received allow.
  // kReady: conn->stage is kHttp. REQUIRES: the caller owns conn.
  Step Advance(Connection* conn, double io_timeout) const;

  // Whether the connection's peer may send a PROXY header (in
  // --proxy-allow-from; a UNIX socket's peer is local and always may).
  bool ProxyAllowed(const Connection& conn) const;

 private:
  Step ReadProxyHeader(Connection* conn) const;
  Step Handshake(Connection* conn, double io_timeout) const;
  // After the header: the TLS handshake if the connection has TLS, else HTTP.
  static void EnterNextStage(Connection* conn);

  const Config& config_;
  const AddressAllowList proxy_allow_from_;
};

}  // namespace wsgid
