// wsgictl's pure parts: its command arguments, its endpoint resolution and the
// way it formats numbers (the integration tier runs the whole client).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "ctl/command_args.h"
#include "ctl/endpoint.h"
#include "ctl/exit_codes.h"
#include "ctl/format.h"

namespace wsgid::ctl {
namespace {

TEST(CommandArgsTest, TakesOptionsFlagsThenPositionals) {
  CommandArgs args("scale", {"--timeout=5", "12", "--wait", "--timeout", "7"});
  auto timeout = args.TakeOption("--timeout");
  ASSERT_TRUE(timeout.ok());
  EXPECT_EQ(timeout->value_or(""), "7");  // the last one wins
  auto wait = args.TakeFlag("--wait");
  ASSERT_TRUE(wait.ok());
  EXPECT_TRUE(*wait);
  auto rest = args.Positionals(1, 1, "a worker count");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, std::vector<std::string>{"12"});
}

TEST(CommandArgsTest, UnknownOptionsAndCountsAreUsageErrors) {
  CommandArgs extra("scale", {"--bogus", "3"});
  auto rest = extra.Positionals(1, 1, "a worker count");
  ASSERT_FALSE(rest.ok());
  EXPECT_EQ(rest.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExitCodeFor(Program::kCtl, rest.status()), kExitUsage);
  EXPECT_NE(rest.status().message().find("scale"), std::string::npos);
  CommandArgs none("scale", {});
  EXPECT_FALSE(none.Positionals(1, 1, "a worker count").ok());
}

TEST(CommandArgsTest, ParsesIntegersAndSeconds) {
  EXPECT_EQ(ParseInteger("-3", "delta").value(), -3);
  EXPECT_FALSE(ParseInteger("3x", "delta").ok());
  EXPECT_FALSE(ParseInteger("", "delta").ok());
  EXPECT_DOUBLE_EQ(ParseSeconds("0.5", "--timeout").value(), 0.5);
  EXPECT_FALSE(ParseSeconds("-1", "--timeout").ok());
  EXPECT_FALSE(ParseSeconds("soon", "--timeout").ok());
}

TEST(EndpointTest, UrlsAndSocketsResolveOrSayWhy) {
  EndpointRequest tcp;
  tcp.url = "http://[::1]:9000";
  auto endpoint = ResolveEndpoint(tcp);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  EXPECT_EQ(endpoint->kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_EQ(endpoint->port, 9000);

  EndpointRequest tls;  // issue 17
  tls.url = "https://localhost";
  tls.cacert = "/etc/ssl/ca.pem";
  auto tls_endpoint = ResolveEndpoint(tls);
  ASSERT_TRUE(tls_endpoint.ok());
  EXPECT_TRUE(tls_endpoint->tls);
  EXPECT_EQ(tls_endpoint->port, 443);
  EXPECT_EQ(tls_endpoint->cacert, "/etc/ssl/ca.pem");

  for (const char* bad : {"ftp://127.0.0.1:9000", "http://127.0.0.1:0",
                          "http://127.0.0.1:9000/v1", "http://[::1:9000"}) {
    EndpointRequest request;
    request.url = bad;
    EXPECT_FALSE(ResolveEndpoint(request).ok()) << bad;
  }
  EndpointRequest both;
  both.url = "http://127.0.0.1:9000";
  both.socket = "/tmp/x.sock";
  EXPECT_FALSE(ResolveEndpoint(both).ok());
}

TEST(EndpointTest, TokenFileOfOneLine) {
  std::string path = ::testing::TempDir() + "wsgictl_token";
  std::ofstream(path) << "s3cret\n";
  EndpointRequest request;
  request.url = "http://127.0.0.1:9000";
  request.token_file = path;
  auto endpoint = ResolveEndpoint(request);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  EXPECT_EQ(endpoint->token, "s3cret");
  std::ofstream(path) << "one\ntwo\n";
  EXPECT_FALSE(ResolveEndpoint(request).ok());
  std::remove(path.c_str());
}

TEST(FormatTest, NumbersForPeople) {
  EXPECT_EQ(FormatSeconds(1.25), "1.2s");
  EXPECT_EQ(FormatSeconds(std::nullopt), "-");
  EXPECT_EQ(FormatDuration(312), "5m 12s");
  EXPECT_EQ(FormatMegabytes(3 * 1024.0 * 1024.0), "3.0");
  EXPECT_EQ(FormatCount(7), "7");
  EXPECT_EQ(FormatSwitch(true), "on");
  EXPECT_EQ(FormatSwitch(std::nullopt), "-");
}

}  // namespace
}  // namespace wsgid::ctl
