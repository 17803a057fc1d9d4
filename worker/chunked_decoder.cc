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

bool ChunkedDecoder::CountSizeLineByte() {
  if (++size_line_bytes_ <= kMaxSizeLine) return true;
  Fail("chunk size line too long");
  return false;
}

size_t ChunkedDecoder::OnSizeByte(unsigned char c) {
  if (!CountSizeLineByte()) return 0;
  int v = HexValue(c);
  if (v >= 0) {
    // Leading zeros are allowed in any number; only significant digits can
    // overflow.
    if ((remaining_ != 0 || v != 0) && ++significant_digits_ > 15) {
      Fail("chunk size too large");
      return 0;
    }
    ++size_digits_;
    remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
  } else if (size_digits_ == 0) {
    Fail("invalid chunk size");
    return 0;
  } else if (c == ';') {
    state_ = State::kExtension;
    in_quotes_ = false;
  } else if (c == '\r') {
    state_ = State::kSizeLf;
  } else {
    Fail("invalid chunk size");
    return 0;
  }
  return 1;
}

size_t ChunkedDecoder::OnExtensionByte(unsigned char c) {
  if (!CountSizeLineByte()) return 0;
  bool control = (c < 0x20 && c != '\t') || c == 0x7f;
  // Quoted strings may hold ';' and '"' escapes; CR, LF and other controls
  // never.
  if (in_quotes_) {
    if (quote_escape_) {
      quote_escape_ = false;
    } else if (c == '\\') {
      quote_escape_ = true;
    } else if (c == '"') {
      in_quotes_ = false;
    }
  } else if (c == '\r') {
    state_ = State::kSizeLf;
    return 1;
  } else if (c == '"') {
    in_quotes_ = true;
  }
  if (control) {
    Fail("invalid chunk extension");
    return 0;
  }
  return 1;
}

size_t ChunkedDecoder::OnSizeLf(unsigned char c) {
  if (c != '\n') {
    Fail("invalid chunk size line");
    return 0;
  }
  size_digits_ = 0;
  significant_digits_ = 0;
  size_line_bytes_ = 0;
  if (remaining_ == 0) {
    state_ = State::kTrailerLine;
    trailer_line_.clear();
  } else {
    state_ = State::kData;
  }
  return 1;
}

size_t ChunkedDecoder::OnDataEnd(unsigned char c, char expected, State next) {
  if (c != static_cast<unsigned char>(expected)) {
    Fail("chunk data not followed by CRLF");
    return 0;
  }
  state_ = next;
  return 1;
}

size_t ChunkedDecoder::OnTrailerByte(unsigned char c) {
  // The byte is used even when it fails the trailer.
  if (++trailer_bytes_ > max_trailer_bytes_) {
    Fail("trailers too large");
  } else if (c != '\n') {
    if (!trailer_line_.empty() && trailer_line_.back() == '\r') {
      Fail("bare CR in trailer");
    } else {
      trailer_line_ += static_cast<char>(c);
    }
  } else if (trailer_line_.empty() || trailer_line_.back() != '\r') {
    Fail("trailer line without CRLF");
  } else {
    trailer_line_.pop_back();
    if (trailer_line_.empty()) {
      state_ = State::kDone;
    } else if (!CheckTrailerLine(trailer_line_)) {
      Fail("invalid trailer field");
    } else {
      trailer_line_.clear();
    }
  }
  return 1;
}

size_t ChunkedDecoder::OnByte(unsigned char c) {
  switch (state_) {
    case State::kSize:
      return OnSizeByte(c);
    case State::kExtension:
      return OnExtensionByte(c);
    case State::kSizeLf:
      return OnSizeLf(c);
    case State::kDataCr:
      return OnDataEnd(c, '\r', State::kDataLf);
    case State::kDataLf:
      return OnDataEnd(c, '\n', State::kSize);
    case State::kTrailerLine:
      return OnTrailerByte(c);
    case State::kData:  // taken in bulk by Decode
    case State::kDone:
    case State::kError:
      break;
  }
  return 0;
}

size_t ChunkedDecoder::TakeData(std::string_view in, std::string* out,
                                size_t room) {
  size_t n = static_cast<size_t>(
      std::min<uint64_t>({remaining_, in.size(), static_cast<uint64_t>(room)}));
  out->append(in.data(), n);
  remaining_ -= n;
  if (remaining_ == 0) state_ = State::kDataCr;
  return n;
}

ChunkedDecoder::Result ChunkedDecoder::Decode(std::string_view in,
                                              std::string* out, size_t max_out,
                                              size_t* consumed) {
  size_t i = 0;
  size_t produced = 0;
  // kDone and kError end the loop (they are the last states).
  while (i < in.size() && state_ < State::kDone) {
    if (state_ != State::kData) {
      i += OnByte(static_cast<unsigned char>(in[i]));
      continue;
    }
    size_t room = max_out - produced;
    if (room == 0) {
      *consumed = i;
      return Result::kNeedMore;
    }
    size_t n = TakeData(in.substr(i), out, room);
    produced += n;
    i += n;
  }
  *consumed = i;
  if (state_ == State::kDone) return Result::kDone;
  if (state_ == State::kError) return Result::kError;
  return Result::kNeedMore;
}

}  // namespace wsgid
