// Unit tests for worker/http_parser.h: request-head parsing (RFC 9112,
// Gunicorn's strictness), limits, framing headers and PercentDecode.
#include "worker/http_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace wsgid {
namespace {

class HttpParserTest : public ::testing::Test {
 protected:
  // Parses `input` with limits_ into head_, consumed_ and error_.
  ParseStatus Parse(std::string_view input) {
    consumed_ = 0;
    error_ = HttpError{};
    return ParseRequestHead(input, limits_, &head_, &consumed_, &error_);
  }

  // Parses "GET / HTTP/1.1" with the given header lines (each without CRLF).
  ParseStatus ParseWithHeaders(std::string_view header_lines) {
    input_ = "GET / HTTP/1.1\r\n";
    input_ += header_lines;
    input_ += "\r\n";
    return Parse(input_);
  }

  // Expects `input` to be refused with `status`.
  void ExpectError(std::string_view input, int status) {
    EXPECT_EQ(Parse(input), ParseStatus::kError) << Printable(input);
    EXPECT_EQ(error_.status, status)
        << Printable(input) << ": " << error_.reason;
    EXPECT_FALSE(error_.reason.empty()) << Printable(input);
  }

  // Expects `input` to parse completely.
  void ExpectDone(std::string_view input) {
    EXPECT_EQ(Parse(input), ParseStatus::kDone)
        << Printable(input) << ": " << error_.status << " " << error_.reason;
  }

  static std::string Printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
      if (c == '\r') {
        out += "\\r";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c < 0x20 || c >= 0x7f) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }

  HttpLimits limits_;
  RequestHead head_;
  size_t consumed_ = 0;
  HttpError error_;
  std::string input_;
};

// ---------------------------------------------------------------------------
// Request line: forms of the request-target.

TEST_F(HttpParserTest, OriginFormSplitsPathQueryAndDropsFragment) {
  const std::string in =
      "GET /a/b%20c?x=1&y=2#frag HTTP/1.1\r\nHost: example.com\r\n\r\n";
  ASSERT_EQ(Parse(in), ParseStatus::kDone) << error_.reason;
  EXPECT_EQ(head_.method, "GET");
  EXPECT_EQ(head_.target, "/a/b%20c?x=1&y=2#frag");
  EXPECT_EQ(head_.path, "/a/b%20c");
  EXPECT_EQ(head_.query, "x=1&y=2");
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_EQ(consumed_, in.size());
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kNone);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_FALSE(head_.expect_continue);
}

TEST_F(HttpParserTest, OriginFormWithoutQuery) {
  ASSERT_EQ(Parse("GET /only/path HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/only/path");
  EXPECT_EQ(head_.query, "");
}

TEST_F(HttpParserTest, OriginFormEmptyQuery) {
  ASSERT_EQ(Parse("GET /p? HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/p");
  EXPECT_EQ(head_.query, "");
}

TEST_F(HttpParserTest, AbsoluteFormTakesPathAfterAuthority) {
  ASSERT_EQ(Parse("GET http://example.com:8080/p/q?a=b#f HTTP/1.1\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.target, "http://example.com:8080/p/q?a=b#f");
  EXPECT_EQ(head_.path, "/p/q");
  EXPECT_EQ(head_.query, "a=b");
}

TEST_F(HttpParserTest, AbsoluteFormWithoutPathIsSlash) {
  ASSERT_EQ(Parse("GET https://example.com HTTP/1.1\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/");
  EXPECT_EQ(head_.query, "");

  ASSERT_EQ(Parse("GET http://example.com?x=1 HTTP/1.1\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/");
  EXPECT_EQ(head_.query, "x=1");

  ASSERT_EQ(Parse("GET http://example.com#frag HTTP/1.1\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/");
  EXPECT_EQ(head_.query, "");
}

TEST_F(HttpParserTest, AbsoluteFormSchemeIsCaseInsensitive) {
  ASSERT_EQ(Parse("GET HTTP://EXAMPLE.COM/X HTTP/1.1\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/X");
}

TEST_F(HttpParserTest, AsteriskFormOnlyWithOptions) {
  ASSERT_EQ(Parse("OPTIONS * HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.method, "OPTIONS");
  EXPECT_EQ(head_.target, "*");
  EXPECT_EQ(head_.path, "*");
  EXPECT_EQ(head_.query, "");

  ExpectError("GET * HTTP/1.1\r\n\r\n", 400);
  ExpectError("POST * HTTP/1.1\r\n\r\n", 400);
  ExpectError("CONNECT * HTTP/1.1\r\n\r\n", 400);
}

TEST_F(HttpParserTest, AuthorityFormOnlyWithConnect) {
  ASSERT_EQ(Parse("CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.method, "CONNECT");
  EXPECT_EQ(head_.target, "example.com:443");
  EXPECT_EQ(head_.path, "");
  EXPECT_EQ(head_.query, "");

  ExpectError("GET example.com:443 HTTP/1.1\r\n\r\n", 400);
  ExpectError("OPTIONS example.com:443 HTTP/1.1\r\n\r\n", 400);
  ExpectError("POST example.com:443 HTTP/1.1\r\n\r\n", 400);
}

TEST_F(HttpParserTest, RelativeTargetRejected) {
  ExpectError("GET a/b HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET ftp://example.com/x HTTP/1.1\r\n\r\n", 400);
}

TEST_F(HttpParserTest, TargetControlCharactersRejected) {
  ExpectError(std::string("GET /a") + '\0' + "b HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /a\tb HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /a\rb HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /a\nb HTTP/1.1\r\n\r\n", 400);
}

TEST_F(HttpParserTest, TargetObsTextAccepted) {
  ASSERT_EQ(Parse("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/caf\xc3\xa9");
}

TEST_F(HttpParserTest, RequestLineShapeErrors) {
  ExpectError("GET  / HTTP/1.1\r\n\r\n", 400);    // two spaces: empty target
  ExpectError("GET / HTTP/1.1 \r\n\r\n", 400);    // trailing space
  ExpectError(" GET / HTTP/1.1\r\n\r\n", 400);    // leading space: empty method
  ExpectError("GET /\r\n\r\n", 400);              // HTTP/0.9 style, no version
  ExpectError("GET\r\n\r\n", 400);                // method only
  ExpectError("GET\t/\tHTTP/1.1\r\n\r\n", 400);   // tabs are not separators
  ExpectError("GET /a b HTTP/1.1\r\n\r\n", 400);  // space inside the target
}

// ---------------------------------------------------------------------------
// Method rules: token, uppercase, 3 to 20 characters.

TEST_F(HttpParserTest, MethodsAccepted) {
  for (const char* method :
       {"GET", "PUT", "POST", "DELETE", "PATCH", "PROPFIND", "M-SEARCH", "GET1",
        "A_B", "ABCDEFGHIJKLMNOPQRST" /* 20 */}) {
    std::string in = std::string(method) + " / HTTP/1.1\r\n\r\n";
    ExpectDone(in);
    EXPECT_EQ(head_.method, method);
  }
}

TEST_F(HttpParserTest, MethodLowercaseRejected) {
  ExpectError("get / HTTP/1.1\r\n\r\n", 400);
  ExpectError("Get / HTTP/1.1\r\n\r\n", 400);
  ExpectError("GEt / HTTP/1.1\r\n\r\n", 400);
}

TEST_F(HttpParserTest, MethodLengthBounds) {
  ExpectError("GE / HTTP/1.1\r\n\r\n", 400);
  ExpectError("G / HTTP/1.1\r\n\r\n", 400);
  ExpectError("ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n\r\n", 400);  // 21
}

TEST_F(HttpParserTest, MethodNonTokenRejected) {
  ExpectError("GE(T / HTTP/1.1\r\n\r\n", 400);
  ExpectError("GE#T / HTTP/1.1\r\n\r\n", 400);  // Gunicorn refuses '#'
  ExpectError("GE:T / HTTP/1.1\r\n\r\n", 400);
  ExpectError("G\xc3\x89T / HTTP/1.1\r\n\r\n", 400);
  ExpectError("GE\x01T / HTTP/1.1\r\n\r\n", 400);
}

// ---------------------------------------------------------------------------
// HTTP version.

TEST_F(HttpParserTest, VersionsOneZeroAndOneOne) {
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.version_minor, 0);
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.version_minor, 1);
}

TEST_F(HttpParserTest, OtherVersionsRejected) {
  for (const char* version :
       {"HTTP/0.9", "HTTP/1", "HTTP/1.", "HTTP/11", "HTTP/1.1x", "HTTP/11.1",
        "http/1.1", "HTTP/1,1", "HTTP/a.b", "HTTPS/1.1", "FOO"}) {
    std::string in = std::string("GET / ") + version + "\r\n\r\n";
    ExpectError(in, 400);
  }
}

TEST_F(HttpParserTest, LaterMajorVersionsAre505) {
  ExpectError("GET / HTTP/2.0\r\n\r\n", 505);
  ExpectError("GET / HTTP/3.0\r\n\r\n", 505);
}

// ---------------------------------------------------------------------------
// Header fields.

TEST_F(HttpParserTest, HeadersKeptInOrderWithCaseAndTrimmedValues) {
  ASSERT_EQ(ParseWithHeaders("Host: example.com\r\n"
                             "X-Custom:   padded value \t\r\n"
                             "X-Empty:\r\n"
                             "X-Tab:\tin\tside\t\r\n"),
            ParseStatus::kDone)
      << error_.reason;
  ASSERT_EQ(head_.headers.size(), 4u);
  EXPECT_EQ(head_.headers[0].name, "Host");
  EXPECT_EQ(head_.headers[0].value, "example.com");
  EXPECT_EQ(head_.headers[1].name, "X-Custom");
  EXPECT_EQ(head_.headers[1].value, "padded value");
  EXPECT_EQ(head_.headers[2].name, "X-Empty");
  EXPECT_EQ(head_.headers[2].value, "");
  EXPECT_EQ(head_.headers[3].value, "in\tside");
}

TEST_F(HttpParserTest, FindIsCaseInsensitiveAndReturnsFirst) {
  ASSERT_EQ(ParseWithHeaders("X-Dup: one\r\nx-dup: two\r\n"),
            ParseStatus::kDone);
  const HeaderField* f = head_.Find("X-DUP");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->value, "one");
  EXPECT_EQ(head_.Find("X-Missing"), nullptr);
}

TEST_F(HttpParserTest, ViewsPointIntoRaw) {
  const std::string in = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(Parse(in), ParseStatus::kDone);
  EXPECT_EQ(head_.raw, in);
  const char* begin = head_.raw.data();
  const char* end = begin + head_.raw.size();
  for (std::string_view v : {head_.method, head_.target, head_.path,
                             head_.headers[0].name, head_.headers[0].value}) {
    EXPECT_GE(v.data(), begin);
    EXPECT_LE(v.data() + v.size(), end);
  }
}

TEST_F(HttpParserTest, WhitespaceBeforeColonRejected) {
  EXPECT_EQ(ParseWithHeaders("Host : example.com\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(ParseWithHeaders("Host\t: example.com\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

TEST_F(HttpParserTest, InvalidHeaderNamesRejected) {
  for (const char* line :
       {": no-name", "No Colon", "Bad(Name: v", "Bad\"Name: v", "Bad/Name: v",
        "B\xc3\xa9: v", "Bad@Name: v", "{Name}: v"}) {
    EXPECT_EQ(ParseWithHeaders(std::string(line) + "\r\n"), ParseStatus::kError)
        << line;
    EXPECT_EQ(error_.status, 400) << line;
  }
}

TEST_F(HttpParserTest, TokenPunctuationInHeaderNamesAccepted) {
  ASSERT_EQ(ParseWithHeaders("X-!#$%&'*+.^`|~: v\r\n"), ParseStatus::kDone)
      << error_.reason;
  EXPECT_EQ(head_.headers[0].name, "X-!#$%&'*+.^`|~");
}

TEST_F(HttpParserTest, InvalidHeaderValueCharactersRejected) {
  const std::string bad_values[] = {
      std::string("a\0b", 3),
      "a\x01z",
      "a\x7fz",
      "a\rb",
      "a\nb",
      "a\x1b"
      "b",
  };
  for (const std::string& value : bad_values) {
    EXPECT_EQ(ParseWithHeaders("X-V: " + value + "\r\n"), ParseStatus::kError)
        << Printable(value);
    EXPECT_EQ(error_.status, 400) << Printable(value);
  }
}

TEST_F(HttpParserTest, ObsTextInHeaderValueAccepted) {
  ASSERT_EQ(ParseWithHeaders("X-V: caf\xc3\xa9 \xff\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.headers[0].value, "caf\xc3\xa9 \xff");
}

TEST_F(HttpParserTest, BareLfLineEndsAreNotLineEnds) {
  // A bare LF inside a CRLF-terminated line is a forbidden value character.
  EXPECT_EQ(ParseWithHeaders("X-A: 1\nX-B: 2\r\n"), ParseStatus::kError);
}

TEST_F(HttpParserTest, DuplicateHostRejected) {
  EXPECT_EQ(ParseWithHeaders("Host: a\r\nHost: b\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(ParseWithHeaders("Host: a\r\nhost: a\r\n"), ParseStatus::kError);
}

TEST_F(HttpParserTest, DuplicateContentTypeRejected) {
  EXPECT_EQ(ParseWithHeaders("Content-Type: a/b\r\ncontent-type: c/d\r\n"),
            ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

TEST_F(HttpParserTest, MissingHostAcceptedLikeGunicorn) {
  ExpectDone("GET / HTTP/1.1\r\n\r\n");
}

// ---------------------------------------------------------------------------
// Obsolete line folding.

TEST_F(HttpParserTest, ObsFoldRejectedByDefault) {
  EXPECT_EQ(ParseWithHeaders("X-A: one\r\n two\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(ParseWithHeaders("X-A: one\r\n\ttwo\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

TEST_F(HttpParserTest, ObsFoldJoinedWhenPermitted) {
  limits_.permit_obsolete_folding = true;
  ASSERT_EQ(ParseWithHeaders("X-A: one\r\n   two  \r\n\tthree\r\nX-B: b\r\n"),
            ParseStatus::kDone)
      << error_.reason;
  ASSERT_EQ(head_.headers.size(), 2u);
  EXPECT_EQ(head_.headers[0].name, "X-A");
  EXPECT_EQ(head_.headers[0].value, "one two three");
  EXPECT_EQ(head_.headers[1].value, "b");
  EXPECT_EQ(head_.Find("x-a")->value, "one two three");
}

TEST_F(HttpParserTest, ObsFoldOntoEmptyValue) {
  limits_.permit_obsolete_folding = true;
  ASSERT_EQ(ParseWithHeaders("X-A:\r\n two\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.headers[0].value, "two");
}

TEST_F(HttpParserTest, ObsFoldOnFirstHeaderLineRejectedEvenWhenPermitted) {
  limits_.permit_obsolete_folding = true;
  EXPECT_EQ(ParseWithHeaders(" X-A: one\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

TEST_F(HttpParserTest, ObsFoldValueCharactersChecked) {
  limits_.permit_obsolete_folding = true;
  EXPECT_EQ(ParseWithHeaders("X-A: one\r\n tw\x01o\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

TEST_F(HttpParserTest, ObsFoldCountsTowardFieldSize) {
  limits_.permit_obsolete_folding = true;
  limits_.field_size = 20;
  // 10 + 2 for the first line, 8 + 2 for the continuation: 22 > 20.
  EXPECT_EQ(ParseWithHeaders("X-A: 12345\r\n 1234567\r\n"),
            ParseStatus::kError);
  EXPECT_EQ(error_.status, 431);
}

TEST_F(HttpParserTest, ObsFoldedValueSurvivesHeadMove) {
  limits_.permit_obsolete_folding = true;
  ASSERT_EQ(ParseWithHeaders("X-A: one\r\n two\r\n"), ParseStatus::kDone);
  RequestHead moved = std::move(head_);
  EXPECT_EQ(moved.headers[0].value, "one two");
}

// Regression: the continuation of a header dropped by header_map (a name with
// '_') was joined onto the previous, unrelated header ("X-Real: a injected").
TEST_F(HttpParserTest, ObsFoldOfDroppedHeaderIsDroppedToo) {
  limits_.permit_obsolete_folding = true;
  limits_.header_map = HeaderMap::kDrop;
  ASSERT_EQ(ParseWithHeaders("X-Real: a\r\nX_Dropped: b\r\n injected\r\n"),
            ParseStatus::kDone)
      << error_.reason;
  const HeaderField* real = head_.Find("X-Real");
  ASSERT_NE(real, nullptr);
  EXPECT_EQ(real->value, "a");
  EXPECT_EQ(head_.headers.size(), 1u);
}

TEST_F(HttpParserTest, ObsFoldOfFirstHeaderDroppedIsDroppedToo) {
  limits_.permit_obsolete_folding = true;
  ASSERT_EQ(ParseWithHeaders("X_Dropped: b\r\n more\r\nX-Real: a\r\n"),
            ParseStatus::kDone)
      << error_.reason;
  ASSERT_EQ(head_.headers.size(), 1u);
  EXPECT_EQ(head_.headers[0].value, "a");
}

// ---------------------------------------------------------------------------
// Limits: 414 for the request line, 431 for header fields, also while
// incomplete.

TEST_F(HttpParserTest, RequestLineAtLimitAccepted) {
  limits_.request_line = 30;
  std::string line = "GET /" + std::string(16, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 30u);
  ExpectDone(line + "\r\n\r\n");
}

TEST_F(HttpParserTest, RequestLineOverLimitIs414) {
  limits_.request_line = 30;
  std::string line = "GET /" + std::string(17, 'a') + " HTTP/1.1";
  ExpectError(line + "\r\n\r\n", 414);
}

TEST_F(HttpParserTest, IncompleteRequestLineOverLimitIs414) {
  limits_.request_line = 30;
  std::string partial = "GET /" + std::string(30, 'a');
  EXPECT_EQ(Parse(partial.substr(0, 30)), ParseStatus::kNeedMore);
  ExpectError(partial, 414);
}

TEST_F(HttpParserTest, DefaultRequestLineLimitIs4094) {
  std::string ok = "GET /" + std::string(4094 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(ok.size(), 4094u);
  ExpectDone(ok + "\r\n\r\n");
  std::string too_long = "GET /" + std::string(4095 - 14, 'a') + " HTTP/1.1";
  ExpectError(too_long + "\r\n\r\n", 414);
  EXPECT_EQ(Parse(std::string(5000, 'G')), ParseStatus::kError);
  EXPECT_EQ(error_.status, 414);
}

TEST_F(HttpParserTest, RequestLineLimitZeroIsUnlimited) {
  limits_.request_line = 0;
  ExpectDone("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n");
}

// Regression: a request line of exactly the limit whose CR had arrived without
// its LF was refused with 414.
TEST_F(HttpParserTest, RequestLineAtLimitSplitAfterCr) {
  limits_.request_line = 30;
  std::string line = "GET /" + std::string(16, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 30u);
  EXPECT_EQ(Parse(line + "\r"), ParseStatus::kNeedMore) << error_.status;
  ExpectDone(line + "\r\n\r\n");
  EXPECT_EQ(Parse(line + "a\r"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 414);
}

// Regression: the same split at a header line: a field of exactly the limit
// (counted with its CRLF) whose CR had arrived without its LF was refused with
// 431, although the complete line is accepted.
TEST_F(HttpParserTest, HeaderLineAtLimitSplitAfterCr) {
  limits_.field_size = 20;
  const std::string line = "X-A: " + std::string(13, 'v');  // 18 + CRLF = 20
  ExpectDone("GET / HTTP/1.1\r\n" + line + "\r\n\r\n");
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\n" + line + "\r"), ParseStatus::kNeedMore)
      << error_.status << " " << error_.reason;
}

// Regression (fuzzing): under a field limit of 1 or 2 a head without fields,
// split right after its final CR, was refused with 431: the empty line that
// ends the head was judged as a field line too long, although the whole head is
// accepted. The answer must not depend on how TCP splits the bytes.
TEST_F(HttpParserTest, FinalEmptyLineSplitAfterCrUnderTinyFieldLimit) {
  const std::string head = "GET /18 HTTP/1.1\r\n\r\n";
  for (int field_size : {1, 2, 3}) {
    limits_.field_size = field_size;
    for (size_t cut = 0; cut < head.size(); ++cut) {
      EXPECT_EQ(Parse(head.substr(0, cut)), ParseStatus::kNeedMore)
          << "field_size " << field_size << ", cut " << cut << ": "
          << error_.status << " " << error_.reason;
    }
    ExpectDone(head);
  }
  // A field line is still judged while incomplete: its first byte is too much.
  limits_.field_size = 2;
  ExpectError("GET / HTTP/1.1\r\nX", 431);
  ExpectError("GET / HTTP/1.1\r\nX\r", 431);
}

TEST_F(HttpParserTest, FieldSizeCountsLineWithCrlf) {
  limits_.field_size = 20;
  // "X-A: " + 13 = 18 bytes, + CRLF = 20: at the limit.
  ExpectDone("GET / HTTP/1.1\r\nX-A: " + std::string(13, 'v') + "\r\n\r\n");
  ExpectError("GET / HTTP/1.1\r\nX-A: " + std::string(14, 'v') + "\r\n\r\n",
              431);
}

TEST_F(HttpParserTest, DefaultFieldSizeLimit) {
  ExpectDone("GET / HTTP/1.1\r\nX-A: " + std::string(8000, 'v') + "\r\n\r\n");
  ExpectError("GET / HTTP/1.1\r\nX-A: " + std::string(8190, 'v') + "\r\n\r\n",
              431);
}

TEST_F(HttpParserTest, IncompleteFieldOverLimitIs431) {
  limits_.field_size = 20;
  std::string in = "GET / HTTP/1.1\r\nX-A: " + std::string(10, 'v');
  EXPECT_EQ(Parse(in), ParseStatus::kNeedMore);
  in += std::string(40, 'v');
  ExpectError(in, 431);
}

TEST_F(HttpParserTest, EndlessHeaderLineBecomesAnError) {
  // Bytes keep arriving without a line end: NeedMore must stop once past the
  // limit.
  std::string in = "GET / HTTP/1.1\r\nX-A: ";
  ParseStatus status = ParseStatus::kNeedMore;
  while (status == ParseStatus::kNeedMore && in.size() < 100000) {
    in += std::string(512, 'v');
    status = Parse(in);
  }
  EXPECT_EQ(status, ParseStatus::kError);
  EXPECT_EQ(error_.status, 431);
  EXPECT_LT(in.size(), 8190u + 1024u);
}

TEST_F(HttpParserTest, EndlessRequestLineBecomesAnError) {
  std::string in = "GET /";
  ParseStatus status = ParseStatus::kNeedMore;
  while (status == ParseStatus::kNeedMore && in.size() < 100000) {
    in += std::string(256, 'a');
    status = Parse(in);
  }
  EXPECT_EQ(status, ParseStatus::kError);
  EXPECT_EQ(error_.status, 414);
  EXPECT_LT(in.size(), 4094u + 512u);
}

TEST_F(HttpParserTest, TooManyFieldsIs431) {
  limits_.fields = 3;
  ExpectDone("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  ExpectError("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431);
}

TEST_F(HttpParserTest, TooManyFieldsDetectedWhileIncomplete) {
  limits_.fields = 3;
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n"),
            ParseStatus::kNeedMore);
  ExpectError("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", 431);
}

TEST_F(HttpParserTest, EndlessHeaderLinesBecomeAnError) {
  std::string in = "GET / HTTP/1.1\r\n";
  ParseStatus status = ParseStatus::kNeedMore;
  int n = 0;
  while (status == ParseStatus::kNeedMore && n < 1000) {
    in += "X-" + std::to_string(n++) + ": v\r\n";
    status = Parse(in);
  }
  EXPECT_EQ(status, ParseStatus::kError);
  EXPECT_EQ(error_.status, 431);
  EXPECT_EQ(n, 101);
}

TEST_F(HttpParserTest, FromConfigCopiesLimits) {
  Config config;
  config.limit_request_line = 100;
  config.limit_request_fields = 7;
  config.limit_request_field_size = 300;
  config.header_map = HeaderMap::kRefuse;
  config.permit_obsolete_folding = true;
  HttpLimits limits = HttpLimits::FromConfig(config);
  EXPECT_EQ(limits.request_line, 100);
  EXPECT_EQ(limits.fields, 7);
  EXPECT_EQ(limits.field_size, 300);
  EXPECT_EQ(limits.header_map, HeaderMap::kRefuse);
  EXPECT_TRUE(limits.permit_obsolete_folding);
}

// As Gunicorn (the corpus case limit_header_default_01): 0 means the default
// limit.
TEST_F(HttpParserTest, FieldSizeZeroFromConfigMeansTheDefault) {
  Config config;
  config.limit_request_field_size = 0;
  limits_ = HttpLimits::FromConfig(config);
  ExpectDone("GET / HTTP/1.1\r\nX-A: " + std::string(8000, 'v') + "\r\n\r\n");
  EXPECT_EQ(
      Parse("GET / HTTP/1.1\r\nX-A: " + std::string(10000, 'v') + "\r\n\r\n"),
      ParseStatus::kError);
  EXPECT_EQ(error_.status, 431);
}

// ---------------------------------------------------------------------------
// header_map: names with '_'.

TEST_F(HttpParserTest, UnderscoreHeaderDroppedByDefault) {
  ASSERT_EQ(ParseWithHeaders("X_Auth: evil\r\nX-Auth: good\r\n"),
            ParseStatus::kDone);
  ASSERT_EQ(head_.headers.size(), 1u);
  EXPECT_EQ(head_.headers[0].name, "X-Auth");
  EXPECT_EQ(head_.Find("X_Auth"), nullptr);
}

TEST_F(HttpParserTest, UnderscoreHeaderRefused) {
  limits_.header_map = HeaderMap::kRefuse;
  EXPECT_EQ(ParseWithHeaders("X_Auth: evil\r\n"), ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  ExpectDone("GET / HTTP/1.1\r\nX-Auth: ok\r\n\r\n");
}

TEST_F(HttpParserTest, UnderscoreHeaderKeptWhenDangerous) {
  limits_.header_map = HeaderMap::kDangerous;
  ASSERT_EQ(ParseWithHeaders("X_Auth: v\r\nX-Auth: w\r\n"), ParseStatus::kDone);
  ASSERT_EQ(head_.headers.size(), 2u);
  EXPECT_EQ(head_.Find("X_Auth")->value, "v");
}

TEST_F(HttpParserTest, DroppedUnderscoreHeaderDoesNotFrame) {
  // Content_Length is dropped, so it never frames the body.
  ASSERT_EQ(ParseWithHeaders("Content_Length: 5\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kNone);
}

// ---------------------------------------------------------------------------
// Content-Length.

TEST_F(HttpParserTest, ContentLengthFramesBody) {
  const std::string in =
      "POST /u HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET";
  ASSERT_EQ(Parse(in), ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kLength);
  EXPECT_EQ(head_.content_length, 5);
  EXPECT_EQ(in.substr(consumed_), "helloGET");
}

TEST_F(HttpParserTest, ContentLengthZeroMeansNoBody) {
  ASSERT_EQ(ParseWithHeaders("Content-Length: 0\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kNone);
  EXPECT_EQ(head_.content_length, 0);
}

TEST_F(HttpParserTest, ContentLengthLeadingZerosAndCase) {
  ASSERT_EQ(ParseWithHeaders("content-LENGTH: 007\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kLength);
  EXPECT_EQ(head_.content_length, 7);
}

TEST_F(HttpParserTest, ContentLengthLarge) {
  ASSERT_EQ(ParseWithHeaders("Content-Length: 999999999999999999\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.content_length, 999999999999999999LL);
}

TEST_F(HttpParserTest, InvalidContentLengthRejected) {
  for (const char* value :
       {"", "abc", "-1", "+5", "5, 5", "5,5", "5 5", "0x10", "1e3", "5.0",
        "99999999999999999999999", "\xef\xbc\x95"}) {
    EXPECT_EQ(
        ParseWithHeaders(std::string("Content-Length: ") + value + "\r\n"),
        ParseStatus::kError)
        << value;
    EXPECT_EQ(error_.status, 400) << value;
  }
}

TEST_F(HttpParserTest, DuplicateContentLengthRejected) {
  EXPECT_EQ(ParseWithHeaders("Content-Length: 5\r\nContent-Length: 5\r\n"),
            ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(ParseWithHeaders("Content-Length: 5\r\ncontent-length: 6\r\n"),
            ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

// ---------------------------------------------------------------------------
// Transfer-Encoding.

TEST_F(HttpParserTest, ChunkedFramesBody) {
  ASSERT_EQ(ParseWithHeaders("Transfer-Encoding: chunked\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kChunked);
  ASSERT_EQ(ParseWithHeaders("transfer-encoding: CHUNKED\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kChunked);
}

TEST_F(HttpParserTest, CodingsBeforeChunkedAccepted) {
  for (const char* value :
       {"gzip, chunked", "gzip,chunked", "deflate , chunked", "x-gzip, chunked",
        "compress, chunked", "identity, chunked"}) {
    ASSERT_EQ(
        ParseWithHeaders(std::string("Transfer-Encoding: ") + value + "\r\n"),
        ParseStatus::kDone)
        << value << ": " << error_.reason;
    EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kChunked) << value;
  }
  // The same list split over two header lines.
  ASSERT_EQ(ParseWithHeaders(
                "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kChunked);
}

TEST_F(HttpParserTest, ChunkedMustBeLast) {
  for (const char* lines :
       {"Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
        "Transfer-Encoding: gzip\r\n"}) {
    EXPECT_EQ(ParseWithHeaders(lines), ParseStatus::kError) << lines;
    EXPECT_EQ(error_.status, 400) << lines;
  }
}

TEST_F(HttpParserTest, ChunkedTwiceRejected) {
  EXPECT_EQ(ParseWithHeaders("Transfer-Encoding: chunked, chunked\r\n"),
            ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(ParseWithHeaders(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
}

TEST_F(HttpParserTest, ChunkedWithContentLengthRejected) {
  EXPECT_EQ(
      ParseWithHeaders("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
      ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(
      ParseWithHeaders("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
      ParseStatus::kError);
  EXPECT_EQ(error_.status, 400);
  EXPECT_EQ(ParseWithHeaders(
                "Content-Length: 0\r\nTransfer-Encoding: gzip, chunked\r\n"),
            ParseStatus::kError);
}

TEST_F(HttpParserTest, UnknownCodingIs501) {
  for (const char* value : {"br", "foo, chunked", "chunked;q=1", "zstd"}) {
    EXPECT_EQ(
        ParseWithHeaders(std::string("Transfer-Encoding: ") + value + "\r\n"),
        ParseStatus::kError)
        << value;
    EXPECT_EQ(error_.status, 501) << value;
  }
}

TEST_F(HttpParserTest, IdentityTransferEncoding) {
  ASSERT_EQ(ParseWithHeaders("Transfer-Encoding: identity\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kNone);
  ASSERT_EQ(
      ParseWithHeaders("Transfer-Encoding: identity\r\nContent-Length: 3\r\n"),
      ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kLength);
  EXPECT_EQ(head_.content_length, 3);
}

TEST_F(HttpParserTest, TransferEncodingInHttp10IsNotTrusted) {
  // RFC 9112 6.1: treat the framing as faulty (Gunicorn refuses); never keep
  // the connection for another request.
  ParseStatus s = Parse(
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: "
      "keep-alive\r\n\r\n");
  EXPECT_TRUE(s == ParseStatus::kError || !head_.keep_alive);
  if (s == ParseStatus::kError) {
    EXPECT_EQ(error_.status, 400);
  }
}

// ---------------------------------------------------------------------------
// Connection semantics.

TEST_F(HttpParserTest, KeepAliveDefaults) {
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\n\r\n"), ParseStatus::kDone);
  EXPECT_FALSE(head_.keep_alive);
}

TEST_F(HttpParserTest, ConnectionHeaderTokens) {
  struct Case {
    const char* request;
    bool keep_alive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: te, keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    ASSERT_EQ(Parse(c.request), ParseStatus::kDone) << Printable(c.request);
    EXPECT_EQ(head_.keep_alive, c.keep_alive) << Printable(c.request);
  }
}

TEST_F(HttpParserTest, ExpectContinue) {
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: "
                  "3\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_TRUE(head_.expect_continue);
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nexpect: 100-Continue\r\nContent-Length: "
                  "3\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_TRUE(head_.expect_continue);
  // HTTP/1.0 has no 100 Continue; other expectations are not it.
  ASSERT_EQ(Parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: "
                  "3\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_FALSE(head_.expect_continue);
  ASSERT_EQ(
      Parse("POST / HTTP/1.1\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\n"),
      ParseStatus::kDone);
  EXPECT_FALSE(head_.expect_continue);
}

TEST_F(HttpParserTest, ReusedHeadIsReset) {
  ASSERT_EQ(
      Parse(
          "POST /a?b HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 9\r\n"
          "Connection: keep-alive\r\n\r\n"),
      ParseStatus::kDone);
  ASSERT_EQ(Parse("GET /c HTTP/1.1\r\n\r\n"), ParseStatus::kDone);
  EXPECT_EQ(head_.method, "GET");
  EXPECT_EQ(head_.path, "/c");
  EXPECT_EQ(head_.query, "");
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_TRUE(head_.headers.empty());
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kNone);
  EXPECT_EQ(head_.content_length, 0);
  EXPECT_FALSE(head_.expect_continue);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_TRUE(head_.folded.empty());
}

// ---------------------------------------------------------------------------
// Buffer handling: leading CRLFs, incremental input, pipelining.

TEST_F(HttpParserTest, LeadingEmptyLinesIgnored) {
  const std::string in = "\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
  ASSERT_EQ(Parse(in), ParseStatus::kDone) << error_.reason;
  EXPECT_EQ(head_.path, "/x");
  EXPECT_EQ(consumed_, in.size());
  EXPECT_EQ(Parse("\r\n"), ParseStatus::kNeedMore);
  EXPECT_EQ(Parse("\r\n\r"), ParseStatus::kNeedMore);
}

TEST_F(HttpParserTest, EveryPrefixNeedsMore) {
  const std::string in =
      "\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: "
      "4\r\n"
      "Expect: 100-continue\r\nX-Empty:\r\n\r\n";
  for (size_t n = 0; n < in.size(); ++n) {
    EXPECT_EQ(Parse(in.substr(0, n)), ParseStatus::kNeedMore)
        << "prefix " << n << ": " << error_.status << " " << error_.reason;
  }
  ASSERT_EQ(Parse(in), ParseStatus::kDone);
  EXPECT_EQ(consumed_, in.size());
  EXPECT_EQ(head_.content_length, 4);
  EXPECT_TRUE(head_.expect_continue);
}

TEST_F(HttpParserTest, InvalidInputRefusedBeforeHeadIsComplete) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nBad Name: v\r\n"), ParseStatus::kError);
  EXPECT_EQ(Parse("get / HTTP/1.1\r\n"), ParseStatus::kError);
  EXPECT_EQ(Parse("GET / HTTP/2.0\r\nHost: x"), ParseStatus::kError);
}

TEST_F(HttpParserTest, PipelinedRequestsConsumedOneAtATime) {
  const std::string in =
      "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /three HTTP/1.1\r\n\r\n";
  std::string_view rest = in;
  ASSERT_EQ(Parse(rest), ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/one");
  EXPECT_EQ(consumed_,
            std::string_view("GET /one HTTP/1.1\r\nHost: a\r\n\r\n").size());
  rest.remove_prefix(consumed_);

  ASSERT_EQ(Parse(rest), ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/two");
  EXPECT_EQ(head_.content_length, 3);
  rest.remove_prefix(consumed_);
  EXPECT_EQ(rest.substr(0, 3), "abc");
  rest.remove_prefix(3);

  ASSERT_EQ(Parse(rest), ParseStatus::kDone);
  EXPECT_EQ(head_.path, "/three");
  EXPECT_EQ(consumed_, rest.size());
}

TEST_F(HttpParserTest, HeadIsCompleteWithoutBody) {
  // The body of a POST is not needed to finish the head.
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n"),
            ParseStatus::kDone);
  EXPECT_EQ(head_.body_kind, RequestHead::BodyKind::kLength);
}

// ---------------------------------------------------------------------------
// Helpers.

TEST(HttpParserHelpersTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("/plain"), "/plain");
  EXPECT_EQ(PercentDecode("%41%42c"), "ABc");
  EXPECT_EQ(PercentDecode("a%2fb%2Fc"), "a/b/c");
  EXPECT_EQ(PercentDecode("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("%00"), std::string(1, '\0'));
  EXPECT_EQ(PercentDecode("%ff"), "\xff");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode(""), "");
}

TEST(HttpParserHelpersTest, PercentDecodeLeavesInvalidEscapes) {
  EXPECT_EQ(PercentDecode("%"), "%");
  EXPECT_EQ(PercentDecode("a%"), "a%");
  EXPECT_EQ(PercentDecode("%4"), "%4");
  EXPECT_EQ(PercentDecode("%zz"), "%zz");
  EXPECT_EQ(PercentDecode("%4g%41"), "%4gA");
  EXPECT_EQ(PercentDecode("%%41"), "%A");
  EXPECT_EQ(PercentDecode("100%"), "100%");
}

TEST(HttpParserHelpersTest, IsTokenChar) {
  for (char c : std::string("!#$%&'*+-.^_`|~09azAZ"))
    EXPECT_TRUE(IsTokenChar(c)) << c;
  for (unsigned char c : std::string("\"(),/:;<=>?@[\\]{} \t\x7f\x80\xff"))
    EXPECT_FALSE(IsTokenChar(c)) << static_cast<int>(c);
  EXPECT_FALSE(IsTokenChar(0));
  for (int c = 0; c < 0x20; ++c)
    EXPECT_FALSE(IsTokenChar(static_cast<unsigned char>(c)));
}

TEST(HttpParserHelpersTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abcd"));
  EXPECT_FALSE(EqualsIgnoreCase("a-b", "a_b"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 vs 0x60: not a case pair
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
}

}  // namespace
}  // namespace wsgid
