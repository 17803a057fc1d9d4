// ChunkedDecoder: an incremental decoder of the chunked transfer coding (RFC
// 9112 7.1), fed whatever bytes arrived. Strict: hex sizes only (no sign, no
// spaces), CRLF line ends, extensions without control characters, each chunk
// followed by CRLF, trailer fields validated and the framing fields forbidden
// in them.
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgid {

class ChunkedDecoder {
 public:
  enum class Result { kNeedMore, kDone, kError };

  // `max_trailer_bytes` bounds the trailer section.
  explicit ChunkedDecoder(size_t max_trailer_bytes = 8192)
      : max_trailer_bytes_(max_trailer_bytes) {}

  // Decodes from `in`, appending at most `max_out` body bytes to *out.
  // *consumed is how many input bytes were used (the rest belong to this call's
  // caller: either more body once there is room, or the next pipelined request
  // after kDone).
  Result Decode(std::string_view in, std::string* out, size_t max_out,
                size_t* consumed);

  bool done() const { return state_ == State::kDone; }
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kSize,         // hex digits of the chunk size
    kExtension,    // after ';' up to CR
    kSizeLf,       // CR seen after the size line, LF expected
    kData,         // remaining_ bytes of data
    kDataCr,       // CR after data
    kDataLf,       // LF after data
    kTrailerLine,  // collecting one trailer line (or the final empty line)
    // The end states come last: Decode runs while state_ < kDone.
    kDone,
    kError,
  };

  // Enters kError with `why`; returns kError.
  Result Fail(const char* why);
  bool CheckTrailerLine(std::string_view line);

  // One handler per state that reads a byte at a time. Each returns how many
  // bytes it used: 1, or 0 when it refused the byte (state_ is then kError).
  // The trailer handler uses the byte even when it fails.
  size_t OnByte(unsigned char c);  // dispatches on state_
  size_t OnSizeByte(unsigned char c);
  size_t OnExtensionByte(unsigned char c);
  size_t OnSizeLf(unsigned char c);
  // The CR (then the LF) that must follow each chunk's data.
  size_t OnDataEnd(unsigned char c, char expected, State next);
  size_t OnTrailerByte(unsigned char c);
  // kData: appends up to `room` bytes of the current chunk from the start of
  // `in` to *out; returns how many.
  size_t TakeData(std::string_view in, std::string* out, size_t room);
  // Counts one more byte of a size line; false (and kError) past kMaxSizeLine.
  bool CountSizeLineByte();

  State state_ = State::kSize;
  int size_digits_ = 0;
  int significant_digits_ = 0;
  // Bounds a size line (digits and extensions): an endless one would hold the
  // reading thread without ever producing body bytes that --limit-request-body
  // could count.
  static constexpr size_t kMaxSizeLine = 4096;
  size_t size_line_bytes_ = 0;
  uint64_t remaining_ = 0;
  bool in_quotes_ = false;
  bool quote_escape_ = false;
  std::string trailer_line_;
  size_t trailer_bytes_ = 0;
  size_t max_trailer_bytes_;
  std::string error_;
};

}  // namespace wsgid
