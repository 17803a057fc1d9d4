// AddressAllowList: the peers a setting trusts, one concept for both of
// Gunicorn's allow lists (--forwarded-allow-ips, --proxy-allow-from), written
// as Gunicorn 22+ writes them: IPv4 or IPv6 addresses, CIDR networks
// ("10.0.0.0/8", "fd00::/8") and "*" (every peer).
//
// An IPv4 client seen through a dual-stack IPv6 socket has a v4-mapped address
// (::ffff:10.1.2.3): it is matched as the IPv4 address it carries, and an
// entry written v4-mapped (::ffff:10.0.0.0/104) as the IPv4 network it covers,
// so "10.0.0.0/8" allows that client whichever socket it came through. Other
// IPv6 networks never match an IPv4 peer (as Python's ipaddress: "::/0" is
// every IPv6 address, not every address).
//
// A network with host bits set ("10.0.0.1/8") is refused, as Python's
// ipaddress.ip_network refuses it: whether the host or its network was meant
// cannot be told. A zone ("fe80::1%eth0") is refused too.
//
// Thread-safe: immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wsgid {

class AddressAllowList {
 public:
  // Allows nobody.
  AddressAllowList() = default;

  // Checks one entry; kInvalidArgument names it and says what is wrong.
  static Status CheckEntry(const std::string& entry);

  // The list of `entries`, or the first bad entry's error.
  static StatusOr<AddressAllowList> Parse(
      const std::vector<std::string>& entries);

  // For a list the settings checked already (CheckEntry on each): an entry
  // that does not parse anyway is left out, so it allows nobody.
  static AddressAllowList FromChecked(const std::vector<std::string>& entries);

  // Whether `address` (text as inet_ntop writes it or a PROXY header carries
  // it) is allowed. Text that is no address is allowed only by "*".
  bool Allows(std::string_view address) const;

 private:
  struct Network {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // network address, v4 in the first 4
    int prefix = 0;                   // bits
  };

  static StatusOr<Network> ParseEntry(const std::string& entry);
  static bool Contains(const Network& network, const Network& address);

  std::vector<Network> networks_;
  bool all_ = false;
};

}  // namespace wsgid
