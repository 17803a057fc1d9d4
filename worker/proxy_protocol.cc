#include "worker/proxy_protocol.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace wsgid {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr size_t kV1MaxBytes = 107;  // the specification's bound, CRLF included
constexpr char kV2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
constexpr size_t kV2SignatureBytes = 12;
constexpr size_t kV2FixedBytes = 16;

bool IsPrefixOf(std::string_view data, std::string_view whole) {
  size_t n = std::min(data.size(), whole.size());
  return data.substr(0, n) == whole.substr(0, n);
}

std::string_view V2Signature() {
  return std::string_view(kV2Signature, kV2SignatureBytes);
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start <= line.size()) {
    size_t space = line.find(' ', start);
    if (space == std::string_view::npos) space = line.size();
    fields.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return fields;
}

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  if (port.size() > 1 && port[0] == '0') return false;
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}

// The address must be numeric, of the family named, and written as
// inet_ntop would accept it back.
bool ValidAddress(std::string_view text, int family) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char binary[16];
  return ::inet_pton(family, buffer, binary) == 1;
}

ProxyParse Fail(std::string* error, const char* why) {
  *error = why;
  return ProxyParse::kError;
}

ProxyParse ParseV1(std::string_view data, ProxyHeader* out, size_t* consumed,
                   std::string* error) {
  size_t end = data.find("\r\n");
  if (end == std::string_view::npos) {
    if (data.size() >= kV1MaxBytes)
      return Fail(error, "PROXY v1 line longer than 107 bytes");
    if (data.find('\n') != std::string_view::npos)
      return Fail(error, "PROXY v1 line ends without CR LF");
    return ProxyParse::kNeedMore;
  }
  if (end + 2 > kV1MaxBytes)
    return Fail(error, "PROXY v1 line longer than 107 bytes");
  // Refused whatever the protocol field says, so that the verdict does not
  // depend on whether the CR LF after a bare LF has arrived yet.
  if (data.substr(0, end).find('\n') != std::string_view::npos)
    return Fail(error, "PROXY v1 line ends without CR LF");
  std::vector<std::string_view> f = SplitSpaces(data.substr(0, end));
  out->version = 1;
  *consumed = end + 2;
  if (f.size() >= 2 && f[1] == "UNKNOWN") {  // the rest is to be ignored
    out->has_address = false;
    return ProxyParse::kDone;
  }
  if (f.size() != 6) return Fail(error, "PROXY v1 line: wrong field count");
  int family;
  if (f[1] == "TCP4")
    family = AF_INET;
  else if (f[1] == "TCP6")
    family = AF_INET6;
  else
    return Fail(error, "PROXY v1 line: unknown protocol");
  if (!ValidAddress(f[2], family) || !ValidAddress(f[3], family))
    return Fail(error, "PROXY v1 line: bad address");
  if (!ValidPort(f[4]) || !ValidPort(f[5]))
    return Fail(error, "PROXY v1 line: bad port");
  out->has_address = true;
  out->source_addr = std::string(f[2]);
  out->source_port = std::string(f[4]);
  return ProxyParse::kDone;
}

void FillV2Address(const unsigned char* p, int family, ProxyHeader* out) {
  char host[INET6_ADDRSTRLEN] = {};
  size_t addr_bytes = family == AF_INET ? 4 : 16;
  ::inet_ntop(family, p, host, sizeof host);
  // Source address, destination address, source port, destination port.
  const unsigned char* port = p + 2 * addr_bytes;
  out->source_addr = host;
  out->source_port = std::to_string(port[0] << 8 | port[1]);
  out->has_address = true;
}

ProxyParse ParseV2(std::string_view data, ProxyHeader* out, size_t* consumed,
                   std::string* error) {
  if (data.size() < kV2FixedBytes) return ProxyParse::kNeedMore;
  auto* p = reinterpret_cast<const unsigned char*>(data.data());
  if ((p[12] >> 4) != 2) return Fail(error, "PROXY v2: version is not 2");
  int command = p[12] & 0x0f;
  if (command > 1) return Fail(error, "PROXY v2: unknown command");
  size_t length = static_cast<size_t>(p[14] << 8 | p[15]);
  if (data.size() < kV2FixedBytes + length) return ProxyParse::kNeedMore;
  out->version = 2;
  out->has_address = false;
  *consumed = kV2FixedBytes + length;
  int family = p[13] >> 4;
  int transport = p[13] & 0x0f;
  if (command == 0) return ProxyParse::kDone;  // LOCAL: a health check
  if (transport > 2 || family > 3)
    return Fail(error, "PROXY v2: unknown family or transport");
  if (family == 1 || family == 2) {
    size_t need = family == 1 ? 12 : 36;
    if (length < need) return Fail(error, "PROXY v2: address block too short");
    if (transport == 0) return ProxyParse::kDone;
    FillV2Address(p + kV2FixedBytes, family == 1 ? AF_INET : AF_INET6, out);
  }
  // UNIX (3) and unspecified (0) families keep the connection's own peer; the
  // TLVs after the addresses are covered by `length` and skipped.
  return ProxyParse::kDone;
}

}  // namespace

bool MayBeProxyHeader(std::string_view data) {
  return IsPrefixOf(data, kV1Prefix) || IsPrefixOf(data, V2Signature());
}

ProxyParse ParseProxyHeader(std::string_view data, ProxyHeader* out,
                            size_t* consumed, std::string* error) {
  *consumed = 0;
  if (data.empty()) return ProxyParse::kNeedMore;
  if (IsPrefixOf(data, V2Signature())) {
    if (data.size() < kV2SignatureBytes) return ProxyParse::kNeedMore;
    return ParseV2(data, out, consumed, error);
  }
  if (IsPrefixOf(data, kV1Prefix)) {
    if (data.size() < kV1Prefix.size()) return ProxyParse::kNeedMore;
    return ParseV1(data, out, consumed, error);
  }
  return Fail(error, "no PROXY protocol header");
}

}  // namespace wsgid
