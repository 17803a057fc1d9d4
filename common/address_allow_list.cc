#include "common/address_allow_list.h"

#include <arpa/inet.h>

#include <cstring>

namespace wsgid {
namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                         0, 0, 0, 0, 0xff, 0xff};

// Parses an address without a prefix into bytes; false if it is none.
bool ParseAddress(std::string_view text, bool* v6, uint8_t bytes[16]) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  std::memset(bytes, 0, 16);
  if (::inet_pton(AF_INET, buffer, bytes) == 1) {
    *v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, buffer, bytes) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

// A v4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address it
// carries; true if it was one.
bool UnmapV4(bool* v6, uint8_t bytes[16]) {
  if (!*v6 || std::memcmp(bytes, kV4MappedPrefix, 12) != 0) return false;
  std::memmove(bytes, bytes + 12, 4);
  std::memset(bytes + 4, 0, 12);
  *v6 = false;
  return true;
}

// A prefix length: decimal digits only, at most `max`.
bool ParsePrefix(std::string_view text, int max, int* prefix) {
  if (text.empty() || text.size() > 3) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  *prefix = value;
  return true;
}

// Whether the bits of `bytes` after the first `prefix` are all zero.
bool HostBitsClear(const uint8_t* bytes, int size, int prefix) {
  for (int bit = prefix; bit < size * 8; ++bit)
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
  return true;
}

Status BadEntry(const std::string& entry, const std::string& why) {
  return Status::InvalidArgument("'" + entry + "' " + why);
}

}  // namespace

StatusOr<AddressAllowList::Network> AddressAllowList::ParseEntry(
    const std::string& entry) {
  std::string_view text = entry;
  size_t slash = text.find('/');
  Network network;
  if (!ParseAddress(text.substr(0, slash), &network.v6, network.bytes.data()))
    return BadEntry(entry,
                    "is not an IP address or network (ADDRESS, "
                    "ADDRESS/PREFIX or *)");
  int bits = network.v6 ? 128 : 32;
  network.prefix = bits;
  if (slash != std::string_view::npos &&
      !ParsePrefix(text.substr(slash + 1), bits, &network.prefix))
    return BadEntry(
        entry, "has a prefix length that is not 0 to " + std::to_string(bits));
  if (!HostBitsClear(network.bytes.data(), bits / 8, network.prefix))
    return BadEntry(entry,
                    "has host bits set (the network is written with them "
                    "zero, e.g. 10.0.0.0/8)");
  // A v4-mapped network (the whole mapped part fixed) is the IPv4 network.
  if (network.prefix >= 96 && UnmapV4(&network.v6, network.bytes.data()))
    network.prefix -= 96;
  return network;
}

Status AddressAllowList::CheckEntry(const std::string& entry) {
  if (entry == "*") return Status::Ok();
  auto network = ParseEntry(entry);
  return network.ok() ? Status::Ok() : network.status();
}

StatusOr<AddressAllowList> AddressAllowList::Parse(
    const std::vector<std::string>& entries) {
  AddressAllowList list;
  for (const std::string& entry : entries) {
    if (entry == "*") {
      list.all_ = true;
      continue;
    }
    auto network = ParseEntry(entry);
    if (!network.ok()) return network.status();
    list.networks_.push_back(*network);
  }
  return list;
}

AddressAllowList AddressAllowList::FromChecked(
    const std::vector<std::string>& entries) {
  AddressAllowList list;
  for (const std::string& entry : entries) {
    if (entry == "*") list.all_ = true;
    if (auto network = ParseEntry(entry); network.ok())
      list.networks_.push_back(*network);
  }
  return list;
}

bool AddressAllowList::Contains(const Network& network,
                                const Network& address) {
  if (network.v6 != address.v6) return false;
  int whole = network.prefix / 8;
  if (std::memcmp(network.bytes.data(), address.bytes.data(), whole) != 0)
    return false;
  int rest = network.prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (network.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

bool AddressAllowList::Allows(std::string_view address) const {
  if (all_) return true;
  if (networks_.empty()) return false;
  Network peer;
  if (!ParseAddress(address, &peer.v6, peer.bytes.data())) return false;
  UnmapV4(&peer.v6, peer.bytes.data());
  for (const Network& network : networks_)
    if (Contains(network, peer)) return true;
  return false;
}

}  // namespace wsgid
