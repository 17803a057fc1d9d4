// PROXY protocol (HAProxy's, versions 1 and 2): the header a TCP load balancer
// sends before the client's bytes, naming the client's address (issue 17).
//
// ParseProxyHeader reads the bytes received so far; it never needs more than
// the header itself, so a caller that reads only while the result is kNeedMore
// (see ConnectionPreface) never takes a byte of the TLS or HTTP stream behind
// it. v1: "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n", at most 107
// bytes, every field checked (numeric addresses of the named family, ports
// 0-65535 without sign or leading zeros). v2: the 12-byte signature, version 2,
// LOCAL (health checks: the connection's own peer stays) or PROXY over
// TCP/UDP on IPv4/IPv6 (UNIX and unspecified families: the peer stays); the
// TLVs after the addresses are skipped unread, bounded by the length field.
//
// Pure functions, thread-safe. Untrusted input: fuzzed (tests/fuzz).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wsgid {

struct ProxyHeader {
  // False for v1 UNKNOWN and v2 LOCAL or an unspecified family: the
  // connection's own peer address stays.
  bool has_address = false;
  std::string source_addr;  // numeric, as inet_ntop writes it
  std::string source_port;  // decimal
  int version = 0;          // 1 or 2
};

enum class ProxyParse { kNeedMore, kDone, kError };

// The longest header accepted: v2's 16 bytes plus its 16-bit length.
constexpr size_t kMaxProxyHeaderBytes = 16 + 65535;

// Parses a header at the start of `data`. kDone: *out is filled and
// *consumed is the header's length. kError: *error says why. kNeedMore: the
// bytes so far are a valid beginning of a header.
ProxyParse ParseProxyHeader(std::string_view data, ProxyHeader* out,
                            size_t* consumed, std::string* error);

// Whether `data` could be the start of a PROXY header (v1 or v2): false as
// soon as a byte rules both out. Empty data: true.
bool MayBeProxyHeader(std::string_view data);

}  // namespace wsgid
