#include "worker/chunked_decoder.h"

#include <algorithm>

#include "worker/http_parser.h"

namespace wsgid {
namespace {

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::Fail(const char* why) {
  state_ = State::kError;
  error_ = why;
  return Result::kError;
}

bool ChunkedDecoder::CheckTrailerLine(std::string_view line) {
  if (line[0] == ' ' || line[0] == '\t') return false;  // obs-fold
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view name = line.substr(0, colon);
  for (unsigned char c : name)
    if (!IsTokenChar(c)) return false;
  for (unsigned char c : line.substr(colon + 1))
    if (c < 0x20 ? c != '\t' : c == 0x7f) return false;
  // Fields that frame or route the message must not arrive after it (RFC
  // 9110 6.5.1).
  static constexpr std::string_view kForbidden[] = {
      "content-length", "transfer-encoding", "host",  "te",
      "trailer",        "content-encoding",  "expect"};
  for (std::string_view f : kForbidden)
    if (EqualsIgnoreCase(name, f)) return false;
  return true;
}

ChunkedDecoder::Result ChunkedDecoder::Decode(std::string_view in,
                                              std::string* out, size_t max_out,
                                              size_t* consumed) {
  size_t i = 0;
  size_t produced = 0;
  auto finish = [&](Result r) {
    *consumed = i;
    return r;
  };
  while (i < in.size()) {
    unsigned char c = in[i];
    if ((state_ == State::kSize || state_ == State::kExtension) &&
        ++size_line_bytes_ > kMaxSizeLine)
      return finish(Fail("chunk size line too long"));
    switch (state_) {
      case State::kSize: {
        int v = HexValue(c);
        if (v >= 0) {
          // Leading zeros are allowed in any number; only significant digits
          // can overflow.
          if ((remaining_ != 0 || v != 0) && ++significant_digits_ > 15)
            return finish(Fail("chunk size too large"));
          ++size_digits_;
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
          ++i;
        } else if (size_digits_ == 0) {
          return finish(Fail("invalid chunk size"));
        } else if (c == ';') {
          state_ = State::kExtension;
          in_quotes_ = false;
          ++i;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else {
          return finish(Fail("invalid chunk size"));
        }
        break;
      }
      case State::kExtension:
        // Quoted strings may hold ';' and '"' escapes; CR, LF and other
        // controls never.
        if (in_quotes_) {
          if (quote_escape_) {
            quote_escape_ = false;
          } else if (c == '\\') {
            quote_escape_ = true;
          } else if (c == '"') {
            in_quotes_ = false;
          }
          if ((c < 0x20 && c != '\t') || c == 0x7f)
            return finish(Fail("invalid chunk extension"));
          ++i;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return finish(Fail("invalid chunk extension"));
        } else {
          if (c == '"') in_quotes_ = true;
          ++i;
        }
        break;
      case State::kSizeLf:
        if (c != '\n') return finish(Fail("invalid chunk size line"));
        ++i;
        size_digits_ = 0;
        significant_digits_ = 0;
        size_line_bytes_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailerLine;
          trailer_line_.clear();
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        size_t room = max_out - produced;
        if (room == 0) return finish(Result::kNeedMore);
        size_t n = static_cast<size_t>(std::min<uint64_t>(
            {remaining_, in.size() - i, static_cast<uint64_t>(room)}));
        out->append(in.data() + i, n);
        produced += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return finish(Fail("chunk data not followed by CRLF"));
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return finish(Fail("chunk data not followed by CRLF"));
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailerLine:
        ++i;
        if (++trailer_bytes_ > max_trailer_bytes_)
          return finish(Fail("trailers too large"));
        if (c == '\n') {
          if (trailer_line_.empty() || trailer_line_.back() != '\r')
            return finish(Fail("trailer line without CRLF"));
          trailer_line_.pop_back();
          if (trailer_line_.empty()) {
            state_ = State::kDone;
            return finish(Result::kDone);
          }
          if (!CheckTrailerLine(trailer_line_))
            return finish(Fail("invalid trailer field"));
          trailer_line_.clear();
        } else {
          if (!trailer_line_.empty() && trailer_line_.back() == '\r')
            return finish(Fail("bare CR in trailer"));
          trailer_line_ += static_cast<char>(c);
        }
        break;
      case State::kDone:
        return finish(Result::kDone);
      case State::kError:
        return finish(Result::kError);
    }
  }
  if (state_ == State::kDone) return finish(Result::kDone);
  if (state_ == State::kError) return finish(Result::kError);
  return finish(Result::kNeedMore);
}

}  // namespace wsgid
