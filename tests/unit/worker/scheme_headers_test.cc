// Unit tests for worker/scheme_headers.h: Gunicorn's reading of
// --secure-scheme-headers, and its 400 when they contradict each other.
#include "worker/scheme_headers.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace wsgid {
namespace {

// Gunicorn's default --secure-scheme-headers.
const std::vector<std::string> kDefaults = {"X-FORWARDED-PROTOCOL=ssl",
                                            "X-FORWARDED-PROTO=https",
                                            "X-FORWARDED-SSL=on"};

RequestHead Head(std::vector<std::pair<const char*, const char*>> headers) {
  RequestHead head;
  for (const auto& [name, value] : headers)
    head.headers.push_back(HeaderField{name, value});
  return head;
}

TEST(SchemeHeadersTest, NoneConfiguredHeaderPresent) {
  EXPECT_EQ(SchemeFromHeaders(Head({{"Host", "x"}}), kDefaults),
            ForwardedScheme::kNone);
}

TEST(SchemeHeadersTest, AMatchingValueIsHttpsAnyOtherHttp) {
  EXPECT_EQ(
      SchemeFromHeaders(Head({{"x-forwarded-proto", "https"}}), kDefaults),
      ForwardedScheme::kHttps);
  EXPECT_EQ(SchemeFromHeaders(Head({{"X-Forwarded-Proto", "http"}}), kDefaults),
            ForwardedScheme::kHttp);
  // The value is compared exactly, as Gunicorn does.
  EXPECT_EQ(
      SchemeFromHeaders(Head({{"X-Forwarded-Proto", "HTTPS"}}), kDefaults),
      ForwardedScheme::kHttp);
}

TEST(SchemeHeadersTest, HeadersThatAgreeAreFine) {
  EXPECT_EQ(SchemeFromHeaders(Head({{"X-Forwarded-Proto", "https"},
                                    {"X-Forwarded-Ssl", "on"}}),
                              kDefaults),
            ForwardedScheme::kHttps);
  EXPECT_EQ(SchemeFromHeaders(Head({{"X-Forwarded-Proto", "http"},
                                    {"X-Forwarded-Protocol", "plain"}}),
                              kDefaults),
            ForwardedScheme::kHttp);
}

TEST(SchemeHeadersTest, TwoThatDisagreeAreContradictory) {
  EXPECT_EQ(SchemeFromHeaders(Head({{"X-Forwarded-Proto", "https"},
                                    {"X-Forwarded-Ssl", "off"}}),
                              kDefaults),
            ForwardedScheme::kContradictory);
  // The same header twice counts twice.
  EXPECT_EQ(SchemeFromHeaders(Head({{"X-Forwarded-Proto", "http"},
                                    {"X-Forwarded-Proto", "https"}}),
                              kDefaults),
            ForwardedScheme::kContradictory);
}

TEST(SchemeHeadersTest, OnlyConfiguredHeadersCount) {
  const std::vector<std::string> custom = {"X-SCHEME=https", "malformed"};
  EXPECT_EQ(
      SchemeFromHeaders(
          Head({{"X-Forwarded-Proto", "http"}, {"X-Scheme", "https"}}), custom),
      ForwardedScheme::kHttps);
  EXPECT_EQ(SchemeFromHeaders(Head({{"X-Forwarded-Proto", "https"}}), {}),
            ForwardedScheme::kNone);
}

}  // namespace
}  // namespace wsgid
