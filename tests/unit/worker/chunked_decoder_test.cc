// Unit tests for worker/chunked_decoder.h: the incremental chunked
// transfer-coding decoder (RFC 9112 section 7.1).
#include "worker/chunked_decoder.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace wsgid {
namespace {

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

struct Decoded {
  ChunkedDecoder::Result result = ChunkedDecoder::Result::kNeedMore;
  std::string body;
  size_t consumed = 0;
  std::string error;
};

// Decodes `in` with one call.
Decoded DecodeAll(std::string_view in, size_t max_trailer_bytes = 8192) {
  ChunkedDecoder decoder(max_trailer_bytes);
  Decoded d;
  d.result = decoder.Decode(in, &d.body, kUnlimited, &d.consumed);
  d.error = decoder.error();
  return d;
}

// Feeds `in` one byte at a time, as a slow client would send it; stops at the
// first result other than kNeedMore. `consumed` is the total of the bytes used.
Decoded DecodeByteAtATime(std::string_view in) {
  ChunkedDecoder decoder;
  Decoded d;
  for (size_t i = 0; i < in.size(); ++i) {
    size_t used = 0;
    d.result = decoder.Decode(in.substr(i, 1), &d.body, kUnlimited, &used);
    d.consumed += used;
    if (d.result != ChunkedDecoder::Result::kNeedMore) break;
  }
  d.error = decoder.error();
  return d;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void ExpectDecodes(std::string_view in, std::string_view body) {
  Decoded d = DecodeAll(in);
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone)
      << Printable(in) << ": " << d.error;
  EXPECT_EQ(d.body, body) << Printable(in);
  EXPECT_EQ(d.consumed, in.size()) << Printable(in);
}

void ExpectRejected(std::string_view in) {
  Decoded d = DecodeAll(in);
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kError) << Printable(in);
  EXPECT_FALSE(d.error.empty()) << Printable(in);
}

// ---------------------------------------------------------------------------
// Chunk sizes.

TEST(ChunkedDecoderTest, DecodesChunks) {
  ExpectDecodes("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
}

TEST(ChunkedDecoderTest, EmptyBody) { ExpectDecodes("0\r\n\r\n", ""); }

TEST(ChunkedDecoderTest, HexSizesUpperAndLower) {
  const std::string sixteen(16, 'x');
  const std::string thirty_one(31, 'y');
  ExpectDecodes("a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n",
                "01234567890123456789");
  ExpectDecodes("10\r\n" + sixteen + "\r\n1f\r\n" + thirty_one + "\r\n1F\r\n" +
                    thirty_one + "\r\n0\r\n\r\n",
                sixteen + thirty_one + thirty_one);
}

TEST(ChunkedDecoderTest, LeadingZeros) {
  ExpectDecodes("0005\r\nhello\r\n000\r\n\r\n", "hello");
}

TEST(ChunkedDecoderTest, LargeChunkAcrossCalls) {
  const std::string data(100000, 'z');
  std::string in = "186a0\r\n" + data + "\r\n0\r\n\r\n";
  ExpectDecodes(in, data);
}

TEST(ChunkedDecoderTest, SignsSpacesAndPrefixesRejected) {
  for (const char* in :
       {"+5\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n", "5 \r\nhello\r\n0\r\n\r\n",
        "\t5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n",
        "5g\r\nhello\r\n0\r\n\r\n", "g\r\n", "\r\n", ";ext\r\n", "5_0\r\n"}) {
    ExpectRejected(in);
  }
}

TEST(ChunkedDecoderTest, TooLargeSizeRejected) {
  ExpectRejected("1000000000000000\r\n");  // 2^60
  ExpectRejected("ffffffffffffffff\r\n");
  ExpectRejected("10000000000000000\r\n");  // 2^64: would wrap to 0
  ExpectRejected(std::string(40, 'f') + "\r\n");
}

TEST(ChunkedDecoderTest, LargestAcceptedSizeNeedsMore) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  EXPECT_EQ(
      decoder.Decode("fffffffffffffff\r\nabc", &out, kUnlimited, &consumed),
      ChunkedDecoder::Result::kNeedMore);
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(consumed, 20u);
}

// Regression: leading zeros counted as significant digits, so a 16-digit size
// of value 5 was refused as "chunk size too large" (RFC 9112 allows 1*HEXDIG).
TEST(ChunkedDecoderTest, ManyLeadingZeros) {
  ExpectDecodes("0000000000000005\r\nhello\r\n0\r\n\r\n", "hello");
  ExpectDecodes("00000000000000000000\r\n\r\n", "");
  ExpectRejected("000" + std::string("1") + std::string(15, '0') +
                 "\r\n");  // 16 significant digits
}

// Feeds `prefix` and then `filler` repeatedly (up to 1 MiB) until the decoder
// leaves kNeedMore; returns the result and how many bytes it took.
std::pair<ChunkedDecoder::Result, size_t> FeedEndlessly(std::string_view prefix,
                                                        char filler) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  ChunkedDecoder::Result r =
      decoder.Decode(prefix, &out, kUnlimited, &consumed);
  size_t total = prefix.size();
  const std::string block(4096, filler);
  while (r == ChunkedDecoder::Result::kNeedMore && total < (1u << 20)) {
    r = decoder.Decode(block, &out, kUnlimited, &consumed);
    total += block.size();
  }
  return {r, total};
}

// Regression (fixed): a chunk extension has no length bound. "1;" followed by
// an endless run of extension bytes is consumed forever without producing body
// bytes, so the client holds an app thread inside one wsgi.input read as long
// as it keeps sending, and the bytes count against no limit
// (--limit-request-body counts decoded bytes only). Node.js bounded this after
// CVE-2024-22019.
TEST(ChunkedDecoderTest, ChunkExtensionLengthBounded) {
  auto [result, total] = FeedEndlessly("1;", 'a');
  EXPECT_EQ(result, ChunkedDecoder::Result::kError)
      << "still waiting after " << total << " bytes of one chunk extension";
}

// Regression (fixed): the same with leading zeros of a chunk size, now that
// they are not counted: "000..." never ends.
TEST(ChunkedDecoderTest, ChunkSizeLineLengthBounded) {
  auto [result, total] = FeedEndlessly("", '0');
  EXPECT_EQ(result, ChunkedDecoder::Result::kError)
      << "still waiting after " << total << " bytes of one chunk size";
}

TEST(ChunkedDecoderTest, SizeLineNeedsCrlf) {
  ExpectRejected("5\nhello\r\n0\r\n\r\n");  // bare LF
  ExpectRejected("5\rhello\r\n0\r\n\r\n");  // bare CR
  ExpectRejected("5\r\r\nhello\r\n0\r\n\r\n");
  ExpectRejected("0\n\r\n");
}

// ---------------------------------------------------------------------------
// Chunk extensions.

TEST(ChunkedDecoderTest, ExtensionsIgnored) {
  ExpectDecodes("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello");
  ExpectDecodes("5;a;b=c;d=\"e\"\r\nhello\r\n0\r\n\r\n", "hello");
  ExpectDecodes("5;a=b\t\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST(ChunkedDecoderTest, QuotedExtensionMayHoldSeparatorsAndEscapes) {
  ExpectDecodes("5;q=\"a;b=c\"\r\nhello\r\n0\r\n\r\n", "hello");
  ExpectDecodes("5;q=\"say \\\"hi\\\"; ok\"\r\nhello\r\n0\r\n\r\n", "hello");
  ExpectDecodes("5;q=\"back\\\\\"\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST(ChunkedDecoderTest, ControlCharactersInExtensionRejected) {
  ExpectRejected("5;a\rb\r\nhello\r\n0\r\n\r\n");  // bare CR
  ExpectRejected("5;a\nb\r\nhello\r\n0\r\n\r\n");  // bare LF
  ExpectRejected(std::string("5;a") + '\0' + "b\r\nhello\r\n0\r\n\r\n");
  ExpectRejected("5;a\x7f\r\nhello\r\n0\r\n\r\n");
  ExpectRejected("5;a\x01\r\nhello\r\n0\r\n\r\n");
}

TEST(ChunkedDecoderTest, LineEndInsideQuotesRejected) {
  ExpectRejected("5;q=\"open\r\nhello\r\n0\r\n\r\n");
  ExpectRejected("5;q=\"a\nb\"\r\nhello\r\n0\r\n\r\n");
  ExpectRejected(
      "5;q=\"a\\\r\nhello\r\n0\r\n\r\n");  // an escaped CR is still a CR
}

// ---------------------------------------------------------------------------
// Chunk data framing.

TEST(ChunkedDecoderTest, MissingCrlfAfterDataRejected) {
  ExpectRejected("5\r\nhelloX\r\n0\r\n\r\n");  // one byte more than announced
  ExpectRejected("5\r\nhello\n0\r\n\r\n");     // LF only
  ExpectRejected("5\r\nhello\rX0\r\n\r\n");    // CR without LF
  ExpectRejected("5\r\nhello0\r\n\r\n");       // nothing
}

TEST(ChunkedDecoderTest, ShortChunkDataWaitsThenRejects) {
  // Four bytes of a five-byte chunk: wait; then the CRLF arrives where data is
  // due.
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  EXPECT_EQ(decoder.Decode("5\r\nhell", &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kNeedMore);
  EXPECT_EQ(consumed, 7u);
  EXPECT_EQ(out, "hell");
  EXPECT_EQ(decoder.Decode("\r\n0\r\n\r\n", &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kError);
}

// ---------------------------------------------------------------------------
// Trailers.

TEST(ChunkedDecoderTest, ValidTrailersAccepted) {
  ExpectDecodes("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\tv v \r\n\r\n",
                "hello");
  ExpectDecodes("0\r\nExpires: never\r\n\r\n", "");
  ExpectDecodes("0\r\nX-Empty:\r\n\r\n", "");
}

TEST(ChunkedDecoderTest, FramingTrailersRejected) {
  for (const char* field :
       {"Content-Length: 5", "content-length: 5", "Host: evil.example",
        "HOST: x", "Transfer-Encoding: chunked", "transfer-encoding: gzip",
        "TE: trailers", "Trailer: X-A", "Content-Encoding: gzip",
        "Expect: 100-continue"}) {
    ExpectRejected(std::string("5\r\nhello\r\n0\r\n") + field + "\r\n\r\n");
  }
}

TEST(ChunkedDecoderTest, MalformedTrailersRejected) {
  for (const char* trailer :
       {"NoColon\r\n", ": empty-name\r\n", "Bad Name: v\r\n", "Name : v\r\n",
        " folded: v\r\n", "X-A: a\r\n folded\r\n", "X-A: a\rb\r\n",
        "X-A: a\x01\r\n", "X-A: a\x7f\r\n", "X-A: a\nX-B: b\r\n", "X-A: a\n"}) {
    ExpectRejected(std::string("0\r\n") + trailer + "\r\n");
  }
  ExpectRejected("0\r\n\n");      // bare LF ends the trailer section
  ExpectRejected("0\r\n\r\r\n");  // CR CR LF
}

TEST(ChunkedDecoderTest, TrailerSectionBounded) {
  std::string in = "0\r\nX-Big: " + std::string(200, 'v') + "\r\n\r\n";
  Decoded small = DecodeAll(in, /*max_trailer_bytes=*/64);
  EXPECT_EQ(small.result, ChunkedDecoder::Result::kError);
  Decoded big = DecodeAll(in, /*max_trailer_bytes=*/1024);
  EXPECT_EQ(big.result, ChunkedDecoder::Result::kDone) << big.error;
}

TEST(ChunkedDecoderTest, EndlessTrailersBecomeAnError) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  ASSERT_EQ(decoder.Decode("0\r\n", &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kNeedMore);
  ChunkedDecoder::Result r = ChunkedDecoder::Result::kNeedMore;
  for (int i = 0; i < 10000 && r == ChunkedDecoder::Result::kNeedMore; ++i)
    r = decoder.Decode("X-A: 0123456789\r\n", &out, kUnlimited, &consumed);
  EXPECT_EQ(r, ChunkedDecoder::Result::kError);
}

// ---------------------------------------------------------------------------
// Incremental input.

const char* const kValidInputs[] = {
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "0\r\n\r\n",
    "A;ext=\"q;\\\"x\"\r\n0123456789\r\n00001\r\n!\r\n0;end\r\nX-T: 1\r\nX-U: "
    "2\r\n\r\n",
    "1\r\n\r\r\n2\r\n\r\n\r\n0\r\n\r\n",  // data bytes that look like line ends
};

const char* const kInvalidInputs[] = {
    "5\r\nhelloX\r\n0\r\n\r\n", "5;a\rb\r\nhello\r\n",
    "5 \r\nhello\r\n",          "0\r\nContent-Length: 1\r\n\r\n",
    "0\r\nX-A: a\rb\r\n\r\n",   "1000000000000000\r\n",
};

TEST(ChunkedDecoderTest, ByteAtATimeMatchesAllAtOnce) {
  for (const char* in : kValidInputs) {
    Decoded whole = DecodeAll(in);
    Decoded bytes = DecodeByteAtATime(in);
    ASSERT_EQ(whole.result, ChunkedDecoder::Result::kDone)
        << Printable(in) << whole.error;
    EXPECT_EQ(bytes.result, whole.result) << Printable(in) << bytes.error;
    EXPECT_EQ(bytes.body, whole.body) << Printable(in);
    EXPECT_EQ(bytes.consumed, whole.consumed) << Printable(in);
  }
  for (const char* in : kInvalidInputs) {
    Decoded whole = DecodeAll(in);
    Decoded bytes = DecodeByteAtATime(in);
    EXPECT_EQ(whole.result, ChunkedDecoder::Result::kError) << Printable(in);
    EXPECT_EQ(bytes.result, ChunkedDecoder::Result::kError) << Printable(in);
  }
}

TEST(ChunkedDecoderTest, EveryTwoWaySplitMatchesAllAtOnce) {
  for (const char* text : kValidInputs) {
    const std::string in = text;
    Decoded whole = DecodeAll(in);
    for (size_t split = 0; split <= in.size(); ++split) {
      ChunkedDecoder decoder;
      std::string out;
      size_t first = 0;
      size_t second = 0;
      ChunkedDecoder::Result r = decoder.Decode(
          std::string_view(in).substr(0, split), &out, kUnlimited, &first);
      if (r == ChunkedDecoder::Result::kNeedMore) {
        ASSERT_EQ(first, split) << "split " << split << " of " << Printable(in);
        r = decoder.Decode(std::string_view(in).substr(split), &out, kUnlimited,
                           &second);
      }
      EXPECT_EQ(r, ChunkedDecoder::Result::kDone)
          << "split " << split << " of " << Printable(in);
      EXPECT_EQ(out, whole.body) << "split " << split;
      EXPECT_EQ(first + second, in.size()) << "split " << split;
    }
  }
}

TEST(ChunkedDecoderTest, MaxOutRespected) {
  const std::string in = "a\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n";
  for (size_t max_out : {1u, 3u, 4u, 10u, 11u}) {
    ChunkedDecoder decoder;
    std::string body;
    size_t pos = 0;
    int calls = 0;
    ChunkedDecoder::Result r = ChunkedDecoder::Result::kNeedMore;
    while (r == ChunkedDecoder::Result::kNeedMore && calls < 100) {
      std::string out;
      size_t consumed = 0;
      r = decoder.Decode(std::string_view(in).substr(pos), &out, max_out,
                         &consumed);
      EXPECT_LE(out.size(), max_out) << "max_out " << max_out;
      body += out;
      pos += consumed;
      ++calls;
    }
    EXPECT_EQ(r, ChunkedDecoder::Result::kDone) << "max_out " << max_out;
    EXPECT_EQ(body, "0123456789abcde") << "max_out " << max_out;
    EXPECT_EQ(pos, in.size()) << "max_out " << max_out;
  }
}

TEST(ChunkedDecoderTest, MaxOutZeroStopsAtData) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  EXPECT_EQ(decoder.Decode("5\r\nhello\r\n0\r\n\r\n", &out, 0, &consumed),
            ChunkedDecoder::Result::kNeedMore);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(consumed, 3u);  // the size line only
  EXPECT_FALSE(decoder.done());
}

TEST(ChunkedDecoderTest, MaxOutAppendsToExistingOutput) {
  ChunkedDecoder decoder;
  std::string out = "kept";
  size_t consumed = 0;
  EXPECT_EQ(decoder.Decode("5\r\nhello\r\n", &out, 2, &consumed),
            ChunkedDecoder::Result::kNeedMore);
  EXPECT_EQ(out, "kepthe");
  EXPECT_EQ(consumed, 5u);
}

TEST(ChunkedDecoderTest, ConsumedStopsAtEndOfBody) {
  const std::string body = "3\r\nabc\r\n0\r\nX-T: v\r\n\r\n";
  const std::string next = "GET /next HTTP/1.1\r\n\r\n";
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  EXPECT_EQ(decoder.Decode(body + next, &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kDone);
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(consumed, body.size());
  EXPECT_TRUE(decoder.done());

  // Once done, nothing more is taken.
  EXPECT_EQ(decoder.Decode(next, &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kDone);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(out, "abc");
}

TEST(ChunkedDecoderTest, ConsumedStopsAtEndOfBodyByteAtATime) {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  const std::string in = body + "XYZ";
  Decoded d = DecodeByteAtATime(in);
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.consumed, body.size());
}

TEST(ChunkedDecoderTest, ErrorIsSticky) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  EXPECT_EQ(decoder.Decode("zz", &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kError);
  EXPECT_FALSE(decoder.error().empty());
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.Decode("0\r\n\r\n", &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kError);
  EXPECT_EQ(consumed, 0u);
  EXPECT_TRUE(out.empty());
}

TEST(ChunkedDecoderTest, EmptyInputNeedsMore) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 7;
  EXPECT_EQ(decoder.Decode("", &out, kUnlimited, &consumed),
            ChunkedDecoder::Result::kNeedMore);
  EXPECT_EQ(consumed, 0u);
}

}  // namespace
}  // namespace wsgid
