// Unit tests for common/address_allow_list.h: the matcher behind
// --forwarded-allow-ips and --proxy-allow-from (addresses, CIDR networks, "*",
// v4-mapped peers) and the entries it refuses.
#include "common/address_allow_list.h"

#include <gtest/gtest.h>

#include "common/config.h"

namespace wsgid {
namespace {

AddressAllowList MustParse(const std::vector<std::string>& entries) {
  auto list = AddressAllowList::Parse(entries);
  EXPECT_TRUE(list.ok()) << list.status().message();
  return list.ok() ? *list : AddressAllowList();
}

TEST(AddressAllowListTest, SingleAddressesMatchExactly) {
  AddressAllowList list = MustParse({"127.0.0.1", "::1"});
  EXPECT_TRUE(list.Allows("127.0.0.1"));
  EXPECT_TRUE(list.Allows("::1"));
  EXPECT_TRUE(list.Allows("0:0:0:0:0:0:0:1"));  // another spelling of ::1
  EXPECT_FALSE(list.Allows("127.0.0.2"));
  EXPECT_FALSE(list.Allows("::2"));
  EXPECT_FALSE(list.Allows(""));
  EXPECT_FALSE(list.Allows("localhost"));
}

TEST(AddressAllowListTest, Ipv4Networks) {
  AddressAllowList list = MustParse({"10.0.0.0/8", "192.168.4.0/22"});
  EXPECT_TRUE(list.Allows("10.0.0.0"));
  EXPECT_TRUE(list.Allows("10.255.255.255"));
  EXPECT_FALSE(list.Allows("11.0.0.1"));
  EXPECT_FALSE(list.Allows("9.255.255.255"));
  EXPECT_TRUE(list.Allows("192.168.4.1"));
  EXPECT_TRUE(list.Allows("192.168.7.254"));  // /22: 4.0 to 7.255
  EXPECT_FALSE(list.Allows("192.168.8.1"));
  EXPECT_FALSE(list.Allows("192.168.3.255"));
  EXPECT_FALSE(list.Allows("::1"));
}

TEST(AddressAllowListTest, Ipv6Networks) {
  AddressAllowList list = MustParse({"fd00::/8", "2001:db8:0:1::/64"});
  EXPECT_TRUE(list.Allows("fd12:3456::1"));
  EXPECT_TRUE(list.Allows("fdff:ffff::"));
  EXPECT_FALSE(list.Allows("fe00::1"));
  EXPECT_FALSE(list.Allows("fc00::1"));
  EXPECT_TRUE(list.Allows("2001:db8:0:1:ffff::1"));
  EXPECT_FALSE(list.Allows("2001:db8:0:2::1"));
  EXPECT_FALSE(list.Allows("10.0.0.1"));
}

TEST(AddressAllowListTest, ZeroPrefixAllowsItsWholeFamily) {
  AddressAllowList v4 = MustParse({"0.0.0.0/0"});
  EXPECT_TRUE(v4.Allows("203.0.113.9"));
  EXPECT_TRUE(v4.Allows("::ffff:203.0.113.9"));  // an IPv4 client, mapped
  EXPECT_FALSE(v4.Allows("2001:db8::1"));
  AddressAllowList v6 = MustParse({"::/0"});
  EXPECT_TRUE(v6.Allows("2001:db8::1"));
  EXPECT_FALSE(v6.Allows("203.0.113.9"));
}

TEST(AddressAllowListTest, V4MappedPeersMatchAsIpv4) {
  // What a dual-stack IPv6 socket reports for an IPv4 client.
  AddressAllowList list = MustParse({"10.0.0.0/8", "192.0.2.7"});
  EXPECT_TRUE(list.Allows("::ffff:10.1.2.3"));
  EXPECT_TRUE(list.Allows("::ffff:192.0.2.7"));
  EXPECT_FALSE(list.Allows("::ffff:192.0.2.8"));
  EXPECT_FALSE(list.Allows("::ffff:11.1.2.3"));
  // An entry written v4-mapped is the IPv4 network it covers.
  AddressAllowList mapped = MustParse({"::ffff:10.0.0.0/104"});
  EXPECT_TRUE(mapped.Allows("10.9.9.9"));
  EXPECT_TRUE(mapped.Allows("::ffff:10.9.9.9"));
  EXPECT_FALSE(mapped.Allows("11.9.9.9"));
}

TEST(AddressAllowListTest, StarAllowsEveryPeer) {
  AddressAllowList list = MustParse({"10.0.0.1", "*"});
  EXPECT_TRUE(list.Allows("203.0.113.9"));
  EXPECT_TRUE(list.Allows("2001:db8::1"));
  EXPECT_TRUE(list.Allows(""));  // a UNIX peer, which has no address
}

TEST(AddressAllowListTest, EmptyListAllowsNobody) {
  AddressAllowList list = MustParse({});
  EXPECT_FALSE(list.Allows("127.0.0.1"));
  EXPECT_FALSE(AddressAllowList().Allows("127.0.0.1"));
}

TEST(AddressAllowListTest, BadEntriesAreRefusedByName) {
  for (const char* bad :
       {"10.0.0.300", "10.0.0", "localhost", "10.0.0.0/33", "fd00::/129",
        "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.1/8",
        "fd00::1/8", "fe80::1%eth0", "", "**", "1.2.3.4 "}) {
    Status s = AddressAllowList::CheckEntry(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
    EXPECT_NE(s.message().find(std::string("'") + bad + "'"), std::string::npos)
        << s.message();
    auto list = AddressAllowList::Parse({"127.0.0.1", bad});
    EXPECT_FALSE(list.ok()) << "'" << bad << "'";
  }
  EXPECT_NE(
      AddressAllowList::CheckEntry("10.0.0.1/8").message().find("host bits"),
      std::string::npos);
  for (const char* good : {"*", "10.0.0.0/8", "10.0.0.1/32", "0.0.0.0/0",
                           "fd00::/8", "::/0", "::1", "::ffff:10.0.0.0/104"})
    EXPECT_TRUE(AddressAllowList::CheckEntry(good).ok()) << good;
}

TEST(AddressAllowListTest, FromCheckedLeavesABadEntryOut) {
  AddressAllowList list = AddressAllowList::FromChecked({"nonsense", "::1"});
  EXPECT_TRUE(list.Allows("::1"));
  EXPECT_FALSE(list.Allows("127.0.0.1"));
}

// Both settings are one concept with one parser: a network is accepted and a
// bad entry is refused, named, by either.
TEST(AddressAllowListTest, BothSettingsAcceptNetworksAndRefuseBadEntries) {
  for (const char* flag : {"--forwarded-allow-ips", "--proxy-allow-from"}) {
    StatusOr<Config> ok =
        ParseCommandLine({flag, "10.0.0.0/8, fd00::/8,192.0.2.1", "a:b"});
    EXPECT_TRUE(ok.ok()) << flag << ": " << ok.status().message();
    StatusOr<Config> bad =
        ParseCommandLine({flag, "10.0.0.0/8,10.1.0.0/33", "a:b"});
    ASSERT_FALSE(bad.ok()) << flag;
    const Status& s = bad.status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << flag;
    EXPECT_NE(s.message().find("10.1.0.0/33"), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find(flag), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace wsgid
