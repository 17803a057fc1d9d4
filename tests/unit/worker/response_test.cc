// Unit tests for worker/response.h: framing, header validation and the headers
// the server adds, observed on the far end of a real socketpair.
#include "worker/response.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <limits>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "worker/chunked_decoder.h"
#include "worker/connection.h"

namespace wsgid {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A response as read from the wire.
struct Wire {
  std::string status_line;
  Headers headers;
  std::string body;

  int Count(std::string_view name) const {
    int n = 0;
    for (const auto& [k, v] : headers)
      if (Lower(k) == Lower(name)) ++n;
    return n;
  }
  // The value of the first header `name`, or "<none>".
  std::string Get(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (Lower(k) == Lower(name)) return v;
    return "<none>";
  }
  static std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
};

// Splits raw response bytes into status line, headers and body.
::testing::AssertionResult ParseWire(const std::string& raw, Wire* wire) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos)
    return ::testing::AssertionFailure() << "no head end: " << raw;
  std::string head = raw.substr(0, end + 2);
  wire->body = raw.substr(end + 4);
  size_t eol = head.find("\r\n");
  wire->status_line = head.substr(0, eol);
  size_t pos = eol + 2;
  wire->headers.clear();
  while (pos < head.size()) {
    eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(": ");
    if (colon == std::string::npos)
      return ::testing::AssertionFailure() << "bad line: " << line;
    wire->headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return ::testing::AssertionSuccess();
}

class ResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    server_.reset(sv[0]);
    peer_.reset(sv[1]);
    ASSERT_EQ(::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    conn_.fd = sv[0];
    options_.server_header = "wsgid-test";
    options_.io_timeout = 5;
  }

  // Everything written to the connection so far.
  std::string ReadPeer() {
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(peer_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  // Reads what was written and parses it into wire_.
  ::testing::AssertionResult ReadWire() {
    raw_ = ReadPeer();
    return ParseWire(raw_, &wire_);
  }

  // Runs a whole response: SetHead, Append each part, Finish.
  void Respond(std::string_view status, Headers headers,
               std::vector<std::string> parts) {
    response_ = std::make_unique<Response>(&conn_, options_);
    ASSERT_TRUE(response_->SetHead(status, std::move(headers)).ok());
    for (const std::string& p : parts) response_->Append(p);
    ASSERT_TRUE(response_->Finish().ok());
    ASSERT_TRUE(ReadWire());
  }

  UniqueFd server_;
  UniqueFd peer_;
  Connection conn_;
  Response::Options options_;
  std::unique_ptr<Response> response_;
  std::string raw_;
  Wire wire_;
};

// Decodes a chunked body completely; fails the test when it is not well-formed.
std::string Dechunk(const std::string& body) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  ChunkedDecoder::Result r =
      decoder.Decode(body, &out, std::numeric_limits<size_t>::max(), &consumed);
  EXPECT_EQ(r, ChunkedDecoder::Result::kDone) << decoder.error();
  EXPECT_EQ(consumed, body.size());
  return out;
}

// ---------------------------------------------------------------------------
// Framing.

TEST_F(ResponseTest, AppContentLengthKept) {
  Respond("200 OK", {{"Content-Type", "text/plain"}, {"Content-Length", "5"}},
          {"hel", "lo"});
  EXPECT_EQ(wire_.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(wire_.Count("Content-Length"), 1);
  EXPECT_EQ(wire_.Get("Content-Length"), "5");
  EXPECT_EQ(wire_.Get("Content-Type"), "text/plain");
  EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0);
  EXPECT_EQ(wire_.Count("Connection"), 0);
  EXPECT_EQ(wire_.body, "hello");
  EXPECT_TRUE(response_->keep_alive());
  EXPECT_EQ(response_->status_code(), 200);
  EXPECT_EQ(response_->body_bytes(), 5);
}

TEST_F(ResponseTest, BodyLongerThanContentLengthIsCut) {
  Respond("200 OK", {{"Content-Length", "4"}}, {"hel", "lo world"});
  EXPECT_EQ(wire_.Get("Content-Length"), "4");
  EXPECT_EQ(wire_.body, "hell");
  EXPECT_EQ(response_->body_bytes(), 4);
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, BodyLongerThanContentLengthIsCutWhenStreamed) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"Content-Length", "4"}}).ok());
  r.Append("he");
  ASSERT_TRUE(r.Flush().ok());
  r.Append("llo");
  r.Append("more");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Get("Content-Length"), "4");
  EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0);
  EXPECT_EQ(wire_.body, "hell");
  EXPECT_TRUE(r.keep_alive());
}

TEST_F(ResponseTest, BodyShorterThanContentLengthClosesConnection) {
  Respond("200 OK", {{"Content-Length", "10"}}, {"short"});
  EXPECT_EQ(wire_.Get("Content-Length"), "10");
  EXPECT_EQ(wire_.Get("Connection"), "close");
  EXPECT_EQ(wire_.body, "short");
  EXPECT_FALSE(response_->keep_alive());
}

TEST_F(ResponseTest, BodyShorterThanContentLengthWhenStreamed) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"Content-Length", "10"}}).ok());
  r.Append("short");
  ASSERT_TRUE(r.Flush().ok());
  EXPECT_FALSE(r.Finish().ok());
  EXPECT_FALSE(r.keep_alive());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.body, "short");
}

TEST_F(ResponseTest, OwnContentLengthWhenBodyKnownAtFinish) {
  Respond("200 OK", {{"Content-Type", "text/plain"}}, {"abc", "", "de"});
  EXPECT_EQ(wire_.Count("Content-Length"), 1);
  EXPECT_EQ(wire_.Get("Content-Length"), "5");
  EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0);
  EXPECT_EQ(wire_.body, "abcde");
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, EmptyBodyGetsContentLengthZero) {
  Respond("200 OK", {}, {});
  EXPECT_EQ(wire_.Get("Content-Length"), "0");
  EXPECT_EQ(wire_.body, "");
}

TEST_F(ResponseTest, ChunkedWhenStreamedOnHttp11) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"Content-Type", "text/plain"}}).ok());
  r.Append("hello");
  ASSERT_TRUE(r.Flush().ok());
  EXPECT_TRUE(r.head_sent());
  r.Append("world!");
  ASSERT_TRUE(r.Flush().ok());
  ASSERT_TRUE(
      r.Flush().ok());  // nothing buffered: no empty chunk (that would end it)
  r.Append("0123456789abcdef0");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(wire_.Count("Content-Length"), 0);
  EXPECT_EQ(
      wire_.body,
      "5\r\nhello\r\n6\r\nworld!\r\n11\r\n0123456789abcdef0\r\n0\r\n\r\n");
  EXPECT_EQ(Dechunk(wire_.body), "helloworld!0123456789abcdef0");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(r.body_bytes(), 28);
}

TEST_F(ResponseTest, ChunkedStreamWithoutBody) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  ASSERT_TRUE(r.Flush().ok());
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(wire_.body, "0\r\n\r\n");
}

TEST_F(ResponseTest, CloseDelimitedWhenStreamedOnHttp10) {
  options_.version_minor = 0;
  options_.keep_alive = true;
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  r.Append("hello ");
  ASSERT_TRUE(r.Flush().ok());
  r.Append("world");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.status_line, "HTTP/1.0 200 OK");
  EXPECT_EQ(wire_.Count("Content-Length"), 0);
  EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0);
  EXPECT_EQ(wire_.Get("Connection"), "close");
  EXPECT_EQ(wire_.body, "hello world");
  EXPECT_FALSE(r.keep_alive());
}

TEST_F(ResponseTest, Http10KeepAliveWithKnownLength) {
  options_.version_minor = 0;
  options_.keep_alive = true;
  Respond("200 OK", {}, {"hi"});
  EXPECT_EQ(wire_.status_line, "HTTP/1.0 200 OK");
  EXPECT_EQ(wire_.Get("Content-Length"), "2");
  EXPECT_EQ(wire_.Get("Connection"), "keep-alive");
  EXPECT_EQ(wire_.body, "hi");
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, Http10WithoutKeepAlive) {
  options_.version_minor = 0;
  options_.keep_alive = false;
  Respond("200 OK", {{"Content-Length", "2"}}, {"hi"});
  EXPECT_EQ(wire_.Get("Connection"), "close");
  EXPECT_FALSE(response_->keep_alive());
}

TEST_F(ResponseTest, Http11WithoutKeepAliveSaysClose) {
  options_.keep_alive = false;
  Respond("200 OK", {}, {"hi"});
  EXPECT_EQ(wire_.Count("Connection"), 1);
  EXPECT_EQ(wire_.Get("Connection"), "close");
  EXPECT_FALSE(response_->keep_alive());
}

TEST_F(ResponseTest, Http11KeepAliveHasNoConnectionHeader) {
  Respond("200 OK", {}, {"hi"});
  EXPECT_EQ(wire_.Count("Connection"), 0);
  EXPECT_TRUE(response_->keep_alive());
}

// ---------------------------------------------------------------------------
// Responses without a body.

TEST_F(ResponseTest, HeadHasNoBodyButTheLength) {
  options_.is_head = true;
  Respond("200 OK", {}, {"hello"});
  EXPECT_EQ(wire_.Get("Content-Length"), "5");
  EXPECT_EQ(wire_.body, "");
  EXPECT_EQ(raw_.substr(raw_.size() - 4), "\r\n\r\n");
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, HeadKeepsAppContentLength) {
  options_.is_head = true;
  Respond("200 OK", {{"Content-Length", "5"}}, {"hello"});
  EXPECT_EQ(wire_.Count("Content-Length"), 1);
  EXPECT_EQ(wire_.Get("Content-Length"), "5");
  EXPECT_EQ(wire_.body, "");
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, HeadStreamedSendsNoBodyAndNoChunking) {
  options_.is_head = true;
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  r.Append("hello");
  ASSERT_TRUE(r.Flush().ok());
  r.Append("more");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0);
  EXPECT_EQ(wire_.body, "");
}

// Regression: a HEAD response whose app declares the GET body's Content-Length
// and (rightly) sends no body, as Werkzeug does for every HEAD, was finished
// with "Connection: close".
TEST_F(ResponseTest, HeadWithContentLengthAndNoBodyKeepsAlive) {
  options_.is_head = true;
  Respond("200 OK", {{"Content-Length", "100"}}, {});
  EXPECT_EQ(wire_.Get("Content-Length"), "100");
  EXPECT_EQ(wire_.body, "");
  EXPECT_EQ(wire_.Count("Connection"), 0);
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, NotModifiedWithContentLengthKeepsAlive) {
  Respond("304 Not Modified", {{"Content-Length", "100"}}, {});
  EXPECT_EQ(wire_.body, "");
  EXPECT_EQ(wire_.Count("Connection"), 0);
  EXPECT_TRUE(response_->keep_alive());
}

TEST_F(ResponseTest, NoContentAndNotModifiedHaveNoBody) {
  for (const char* status : {"204 No Content", "304 Not Modified"}) {
    Respond(status, {}, {"ignored"});
    EXPECT_EQ(wire_.status_line, std::string("HTTP/1.1 ") + status);
    EXPECT_EQ(wire_.Count("Content-Length"), 0) << status;
    EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0) << status;
    EXPECT_EQ(wire_.body, "") << status;
    EXPECT_TRUE(response_->keep_alive()) << status;
  }
}

TEST_F(ResponseTest, NoContentStreamedHasNoChunking) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("204 No Content", {}).ok());
  r.Append("x");
  ASSERT_TRUE(r.Flush().ok());
  r.Append("y");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Count("Transfer-Encoding"), 0);
  EXPECT_EQ(wire_.body, "");
  EXPECT_TRUE(r.keep_alive());
}

// ---------------------------------------------------------------------------
// Header validation and the headers the server adds or drops.

TEST_F(ResponseTest, HopByHopHeadersDropped) {
  Respond("200 OK",
          {{"Connection", "close"},
           {"Keep-Alive", "timeout=5"},
           {"Proxy-Connection", "keep-alive"},
           {"TE", "trailers"},
           {"Trailer", "X-Sum"},
           {"transfer-encoding", "chunked"},
           {"UPGRADE", "websocket"},
           {"X-Kept", "yes"}},
          {"body"});
  for (const char* name : {"Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                           "Transfer-Encoding", "Upgrade", "Connection"})
    EXPECT_EQ(wire_.Count(name), 0) << name;
  EXPECT_EQ(wire_.Get("X-Kept"), "yes");
  EXPECT_EQ(wire_.Get("Content-Length"), "4");
  EXPECT_EQ(wire_.body, "body");
  ASSERT_EQ(response_->headers().size(), 1u);
  EXPECT_EQ(response_->headers()[0].first, "X-Kept");
}

TEST_F(ResponseTest, HeaderOrderAndCasePreserved) {
  Respond("200 OK",
          {{"x-first", "1"},
           {"X-Second", "2"},
           {"Set-Cookie", "a=1"},
           {"Set-Cookie", "b=2"}},
          {});
  ASSERT_GE(wire_.headers.size(), 4u);
  EXPECT_EQ(wire_.headers[0],
            (std::pair<std::string, std::string>{"x-first", "1"}));
  EXPECT_EQ(wire_.headers[1],
            (std::pair<std::string, std::string>{"X-Second", "2"}));
  EXPECT_EQ(wire_.headers[2],
            (std::pair<std::string, std::string>{"Set-Cookie", "a=1"}));
  EXPECT_EQ(wire_.headers[3],
            (std::pair<std::string, std::string>{"Set-Cookie", "b=2"}));
}

TEST_F(ResponseTest, CrLfNulInHeadersRejected) {
  const Headers bad[] = {
      {{"X-A", "v\r\nSet-Cookie: evil=1"}},
      {{"X-A", "v\nX-B: w"}},
      {{"X-A", "v\rw"}},
      {{"X-A", std::string("v\0w", 3)}},
      {{"X-A\r\nX-B", "v"}},
      {{"X-A\n", "v"}},
      {{std::string("X\0A", 3), "v"}},
  };
  for (const Headers& headers : bad) {
    Response r(&conn_, options_);
    EXPECT_FALSE(r.SetHead("200 OK", headers).ok()) << headers[0].first;
    EXPECT_FALSE(r.has_head());
  }
  EXPECT_EQ(ReadPeer(), "");
}

TEST_F(ResponseTest, InvalidHeaderNamesRejected) {
  for (const char* name : {"", "X A", "X:A", "X(A)", "X-\xc3\xa9", "X\tA"}) {
    Response r(&conn_, options_);
    EXPECT_FALSE(r.SetHead("200 OK", {{name, "v"}}).ok()) << name;
  }
}

TEST_F(ResponseTest, InvalidStatusRejected) {
  for (const std::string& status :
       {std::string("200"), std::string("20 OK"), std::string("2000 OK"),
        std::string("abc OK"), std::string("099 Low"), std::string("200OK"),
        std::string("200 OK\r\nX-Injected: 1"), std::string("200 O\nK"),
        std::string("200 O\0K", 7), std::string("")}) {
    Response r(&conn_, options_);
    EXPECT_FALSE(r.SetHead(status, {}).ok()) << status;
    EXPECT_FALSE(r.has_head());
  }
}

TEST_F(ResponseTest, StatusCodeParsed) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("418 I'm a teapot", {}).ok());
  EXPECT_TRUE(r.has_head());
  EXPECT_EQ(r.status_code(), 418);
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.status_line, "HTTP/1.1 418 I'm a teapot");
}

TEST_F(ResponseTest, InvalidContentLengthRejected) {
  for (const char* value : {"", "abc", "-1", "5x", "5 ", "1.5"}) {
    Response r(&conn_, options_);
    EXPECT_FALSE(r.SetHead("200 OK", {{"Content-Length", value}}).ok())
        << value;
  }
}

// Regression: the app's Content-Length was checked with strtoll, so "+5" and
// " 5" were accepted and sent on verbatim; two different Content-Lengths were
// both sent.
TEST_F(ResponseTest, SignedOrPaddedContentLengthRejected) {
  for (const char* value :
       {"+5", " 5", "-0", "0x5", "99999999999999999999999"}) {
    Response r(&conn_, options_);
    EXPECT_FALSE(r.SetHead("200 OK", {{"Content-Length", value}}).ok())
        << value;
  }
}

TEST_F(ResponseTest, ConflictingContentLengthsRejected) {
  Response r(&conn_, options_);
  EXPECT_FALSE(
      r.SetHead("200 OK", {{"Content-Length", "10"}, {"Content-Length", "5"}})
          .ok());
}

TEST_F(ResponseTest, RepeatedContentLengthSentOnce) {
  Respond("200 OK", {{"Content-Length", "3"}, {"content-length", "3"}},
          {"abcdef"});
  EXPECT_EQ(wire_.Count("Content-Length"), 1);
  EXPECT_EQ(wire_.body, "abc");
}

// Regression (fixed): a SetHead that fails validation after an earlier
// successful one clears the recorded headers but keeps the earlier status, so
// has_head() stays true and Finish() sends the old status with none of its
// headers (start_response("200 OK", [("X-A", "1")]) then start_response with a
// bad header and exc_info: the response goes out as a bare "200 OK").
TEST_F(ResponseTest, FailedSetHeadLeavesEarlierHeadIntact) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"X-A", "1"}}).ok());
  ASSERT_FALSE(
      r.SetHead("500 Internal Server Error", {{"X-B", "a\r\nb"}}).ok());
  if (r.has_head()) {
    ASSERT_EQ(r.headers().size(), 1u);  // actual: 0
    EXPECT_EQ(r.headers()[0].first, "X-A");
  }
}

TEST_F(ResponseTest, DateAndServerAdded) {
  Respond("200 OK", {}, {});
  EXPECT_EQ(wire_.Count("Date"), 1);
  EXPECT_TRUE(std::regex_match(
      wire_.Get("Date"),
      std::regex(
          R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|)"
          R"(Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)")))
      << wire_.Get("Date");
  EXPECT_EQ(wire_.Count("Server"), 1);
  EXPECT_EQ(wire_.Get("Server"), "wsgid-test");
}

TEST_F(ResponseTest, AppDateAndServerKept) {
  Respond("200 OK",
          {{"date", "Thu, 01 Jan 1970 00:00:00 GMT"}, {"SERVER", "app"}}, {});
  EXPECT_EQ(wire_.Count("Date"), 1);
  EXPECT_EQ(wire_.Get("Date"), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(wire_.Count("Server"), 1);
  EXPECT_EQ(wire_.Get("Server"), "app");
}

TEST_F(ResponseTest, EmptyServerHeaderOptionOmitsServer) {
  options_.server_header = "";
  Respond("200 OK", {}, {});
  EXPECT_EQ(wire_.Count("Server"), 0);
  EXPECT_EQ(wire_.Count("Date"), 1);
}

TEST_F(ResponseTest, SetHeadAgainReplacesHeadBeforeSending) {
  Response r(&conn_, options_);
  ASSERT_TRUE(
      r.SetHead("200 OK", {{"X-First", "1"}, {"Content-Length", "2"}}).ok());
  ASSERT_TRUE(r.SetHead("500 Internal Server Error", {{"X-Second", "2"}}).ok());
  EXPECT_EQ(r.status_code(), 500);
  r.Append("oops");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.status_line, "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(wire_.Count("X-First"), 0);
  EXPECT_EQ(wire_.Get("X-Second"), "2");
  EXPECT_EQ(wire_.Get("Content-Length"), "4");
  EXPECT_EQ(wire_.body, "oops");
}

TEST_F(ResponseTest, SetHeadAfterHeadSentFails) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  ASSERT_TRUE(r.Flush().ok());
  EXPECT_FALSE(r.SetHead("500 Internal Server Error", {}).ok());
  EXPECT_EQ(r.status_code(), 200);
}

TEST_F(ResponseTest, ShouldFlushAfterThreshold) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  r.Append(std::string(1000, 'a'));
  EXPECT_FALSE(r.ShouldFlush());
  r.Append(std::string(65536, 'b'));
  EXPECT_TRUE(r.ShouldFlush());
  ASSERT_TRUE(r.Flush().ok());
  EXPECT_FALSE(r.ShouldFlush());
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(Dechunk(wire_.body).size(), 66536u);
}

TEST_F(ResponseTest, WriteFailureDropsKeepAlive) {
  peer_.reset();
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  r.Append("x");
  EXPECT_FALSE(r.Finish().ok());
  EXPECT_FALSE(r.keep_alive());
}

// ---------------------------------------------------------------------------
// SendFile.

class ResponseSendFileTest : public ResponseTest {
 protected:
  void SetUp() override {
    ResponseTest::SetUp();
    file_ = std::tmpfile();
    ASSERT_NE(file_, nullptr);
    const std::string content = "0123456789abcdefghij";
    ASSERT_EQ(std::fwrite(content.data(), 1, content.size(), file_),
              content.size());
    ASSERT_EQ(std::fflush(file_), 0);
  }
  void TearDown() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  int file_fd() const { return ::fileno(file_); }

  std::FILE* file_ = nullptr;
};

TEST_F(ResponseSendFileTest, ChunkedOnHttp11) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {}).ok());
  r.Append("<");
  ASSERT_TRUE(r.SendFile(file_fd(), 2, 5).ok());
  r.Append(">");
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(Dechunk(wire_.body), "<23456>");
  EXPECT_TRUE(r.keep_alive());
}

TEST_F(ResponseSendFileTest, ClippedToContentLength) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"Content-Length", "8"}}).ok());
  r.Append("ab");
  ASSERT_TRUE(r.SendFile(file_fd(), 0, 20).ok());
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Get("Content-Length"), "8");
  EXPECT_EQ(wire_.body, "ab012345");
  EXPECT_TRUE(r.keep_alive());
}

TEST_F(ResponseSendFileTest, ShortFileClosesConnection) {
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"Content-Length", "50"}}).ok());
  EXPECT_FALSE(r.SendFile(file_fd(), 10, 50).ok());
  EXPECT_FALSE(r.keep_alive());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.body, "abcdefghij");
}

TEST_F(ResponseSendFileTest, HeadSendsNoFile) {
  options_.is_head = true;
  Response r(&conn_, options_);
  ASSERT_TRUE(r.SetHead("200 OK", {{"Content-Length", "20"}}).ok());
  ASSERT_TRUE(r.SendFile(file_fd(), 0, 20).ok());
  ASSERT_TRUE(r.Finish().ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.Get("Content-Length"), "20");
  EXPECT_EQ(wire_.body, "");
}

// ---------------------------------------------------------------------------
// Static helpers.

TEST_F(ResponseTest, WriteErrorIsCompleteAndCloses) {
  ASSERT_TRUE(
      Response::WriteError(&conn_, 431, "header field too large", "wsgid", 5)
          .ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(wire_.Get("Connection"), "close");
  EXPECT_EQ(wire_.Get("Content-Length"), std::to_string(wire_.body.size()));
  EXPECT_EQ(wire_.Get("Server"), "wsgid");
  EXPECT_EQ(wire_.Count("Date"), 1);
  EXPECT_NE(wire_.body.find("Request Header Fields Too Large"),
            std::string::npos);
  EXPECT_NE(wire_.body.find("header field too large"), std::string::npos);
}

TEST_F(ResponseTest, WriteErrorWithoutServerHeader) {
  ASSERT_TRUE(Response::WriteError(&conn_, 400, "", "", 5).ok());
  ASSERT_TRUE(ReadWire());
  EXPECT_EQ(wire_.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(wire_.Count("Server"), 0);
  EXPECT_EQ(wire_.body, "Bad Request\n");
}

TEST(ResponseStaticTest, ReasonPhrase) {
  EXPECT_EQ(Response::ReasonPhrase(200), "OK");
  EXPECT_EQ(Response::ReasonPhrase(400), "Bad Request");
  EXPECT_EQ(Response::ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(Response::ReasonPhrase(414), "URI Too Long");
  EXPECT_EQ(Response::ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(Response::ReasonPhrase(501), "Not Implemented");
  EXPECT_EQ(Response::ReasonPhrase(799), "Unknown");
}

TEST(ResponseStaticTest, HttpDateFormat) {
  std::string date(Response::HttpDate());
  EXPECT_EQ(date.size(), 29u) << date;
  EXPECT_EQ(date.substr(date.size() - 4), " GMT");
}

}  // namespace
}  // namespace wsgid
