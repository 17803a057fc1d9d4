// Unit tests for worker/proxy_protocol.h: PROXY protocol v1 and v2 headers,
// complete, truncated and malformed (issue 17).
#include "worker/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgid {
namespace {

const std::string kV2Sig("\r\n\r\n\0\r\nQUIT\n", 12);

ProxyParse Parse(const std::string& data, ProxyHeader* h, size_t* consumed,
                 std::string* error = nullptr) {
  std::string ignored;
  return ParseProxyHeader(data, h, consumed, error ? error : &ignored);
}

// A v2 header: command PROXY (0x21), family/transport byte, address block.
std::string V2(unsigned char ver_cmd, unsigned char fam,
               const std::string& body) {
  std::string h = kV2Sig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

std::string V4Block() {
  // 192.168.0.1 -> 192.168.0.11, ports 56324 -> 443.
  return std::string("\xc0\xa8\x00\x01\xc0\xa8\x00\x0b\xdc\x04\x01\xbb", 12);
}

TEST(ProxyProtocolTest, V1Tcp4) {
  ProxyHeader h;
  size_t consumed = 0;
  std::string line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  ASSERT_EQ(Parse(line + "GET / HTTP/1.1\r\n", &h, &consumed),
            ProxyParse::kDone);
  EXPECT_EQ(consumed, line.size());
  EXPECT_TRUE(h.has_address);
  EXPECT_EQ(h.source_addr, "192.168.0.1");
  EXPECT_EQ(h.source_port, "56324");
  EXPECT_EQ(h.version, 1);
}

TEST(ProxyProtocolTest, V1Tcp6AndUnknown) {
  ProxyHeader h;
  size_t consumed = 0;
  ASSERT_EQ(Parse("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n", &h, &consumed),
            ProxyParse::kDone);
  EXPECT_EQ(h.source_addr, "2001:db8::1");
  ASSERT_EQ(Parse("PROXY UNKNOWN whatever\r\n", &h, &consumed),
            ProxyParse::kDone);
  EXPECT_FALSE(h.has_address);
}

TEST(ProxyProtocolTest, V1NeedsMoreUntilCrLf) {
  ProxyHeader h;
  size_t consumed = 0;
  std::string line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  for (size_t n = 0; n < line.size(); ++n)
    EXPECT_EQ(Parse(line.substr(0, n), &h, &consumed), ProxyParse::kNeedMore)
        << n;
}

TEST(ProxyProtocolTest, V1Malformed) {
  ProxyHeader h;
  size_t consumed = 0;
  for (const char* bad : {
           "PROXY TCP4 192.168.0.1 192.16...\r\n",  // corpus pp_01
           "PROXY TCP4 192.168.0.1 192.168.0.11 65iii 100000\r\n",  // pp_02
           "PROXY TCP4 not-an-ip 192.168.0.11 56324 443\r\n",       // pp_03
           "PROXY TCP4 ::1 ::1 1 2\r\n",  // family mismatch
           "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n",
           "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n",  // leading zero
           "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n",     // LF only
           // A bare LF before the CR LF, even where the rest is ignored
           // (fuzz: the prefix up to the LF was already refused).
           "PROXY UNKNOWN a\nb\r\n",
           "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n",
           "PROXY  TCP4 1.2.3.4 1.2.3.4 1 2\r\n",  // double space
           "GET / HTTP/1.1\r\n",
       }) {
    std::string error;
    EXPECT_EQ(Parse(bad, &h, &consumed, &error), ProxyParse::kError) << bad;
    EXPECT_FALSE(error.empty());
  }
  // No CRLF within the 107 bytes the specification allows.
  EXPECT_EQ(Parse("PROXY TCP4 " + std::string(120, '1'), &h, &consumed),
            ProxyParse::kError);
}

TEST(ProxyProtocolTest, V2Ipv4WithTlvsSkipped) {
  ProxyHeader h;
  size_t consumed = 0;
  std::string tlv("\x04\x00\x03xyz", 6);  // a NOOP TLV
  std::string header = V2(0x21, 0x11, V4Block() + tlv);
  ASSERT_EQ(Parse(header + "GET", &h, &consumed), ProxyParse::kDone);
  EXPECT_EQ(consumed, header.size());
  EXPECT_EQ(h.source_addr, "192.168.0.1");
  EXPECT_EQ(h.source_port, "56324");
  EXPECT_EQ(h.version, 2);
  for (size_t n = 0; n < header.size(); ++n)
    EXPECT_EQ(Parse(header.substr(0, n), &h, &consumed), ProxyParse::kNeedMore)
        << n;
}

TEST(ProxyProtocolTest, V2Ipv6) {
  ProxyHeader h;
  size_t consumed = 0;
  std::string block(36, '\0');
  block[15] = 1;  // ::1
  block[31] = 2;  // ::2
  block[32] = '\x1f';
  block[33] = '\x90';  // 8080
  ASSERT_EQ(Parse(V2(0x21, 0x21, block), &h, &consumed), ProxyParse::kDone);
  EXPECT_EQ(h.source_addr, "::1");
  EXPECT_EQ(h.source_port, "8080");
}

TEST(ProxyProtocolTest, V2LocalAndUnixKeepThePeer) {
  ProxyHeader h;
  size_t consumed = 0;
  ASSERT_EQ(Parse(V2(0x20, 0x00, ""), &h, &consumed), ProxyParse::kDone);
  EXPECT_FALSE(h.has_address);
  ASSERT_EQ(Parse(V2(0x21, 0x31, std::string(216, 'a')), &h, &consumed),
            ProxyParse::kDone);
  EXPECT_FALSE(h.has_address);
}

TEST(ProxyProtocolTest, V2Malformed) {
  ProxyHeader h;
  size_t consumed = 0;
  EXPECT_EQ(Parse(V2(0x11, 0x11, V4Block()), &h, &consumed),
            ProxyParse::kError);  // version 1 in a v2 header
  EXPECT_EQ(Parse(V2(0x22, 0x11, V4Block()), &h, &consumed),
            ProxyParse::kError);  // unknown command
  EXPECT_EQ(Parse(V2(0x21, 0x11, V4Block().substr(0, 11)), &h, &consumed),
            ProxyParse::kError);  // address block too short
  EXPECT_EQ(Parse(V2(0x21, 0x21, V4Block()), &h, &consumed),
            ProxyParse::kError);  // IPv6 needs 36 bytes
  EXPECT_EQ(Parse(V2(0x21, 0x41, V4Block()), &h, &consumed),
            ProxyParse::kError);  // unknown family
}

TEST(ProxyProtocolTest, MayBeProxyHeader) {
  EXPECT_TRUE(MayBeProxyHeader(""));
  EXPECT_TRUE(MayBeProxyHeader("PRO"));
  EXPECT_TRUE(MayBeProxyHeader(kV2Sig.substr(0, 5)));
  EXPECT_FALSE(MayBeProxyHeader("PROPFIND"));
  EXPECT_FALSE(MayBeProxyHeader("\x16\x03\x01"));
  EXPECT_FALSE(MayBeProxyHeader("GET"));
}

}  // namespace
}  // namespace wsgid
