// Response: turns what a WSGI app hands back (status, headers, body bytes) into
// an HTTP/1.1 response on the connection, safely.
//
// It validates the app's status and headers (no CR, LF or NUL: no response
// splitting), drops hop-by-hop headers, adds Date, Server and Connection, and
// chooses the framing: the app's Content-Length (a longer body is cut, a
// shorter one closes the connection), a Content-Length of its own when the
// whole body is known before the head is sent, chunked for HTTP/1.1, or
// close-delimited for HTTP/1.0. HEAD, 1xx, 204 and 304 carry no body.
// Thread-compatible; Flush/Finish/SendFile block on the socket (call without
// GIL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wsgid {

class Connection;
class RequestBody;

class Response {
 public:
  struct Options {
    bool is_head = false;
    int version_minor = 1;
    bool keep_alive =
        true;  // the client allows it and the server is not draining
    std::string_view server_header;  // empty: no Server header
    double io_timeout = 30;
    // The request's body: when its unread rest cannot be drained, the head says
    // Connection: close. Optional.
    const RequestBody* request_body = nullptr;
  };

  Response(Connection* conn, const Options& options)
      : conn_(conn), options_(options) {}

  // Records the status line ("200 OK") and headers after validating them. May
  // be called again until the head is sent (start_response with exc_info).
  Status SetHead(std::string_view status,
                 std::vector<std::pair<std::string, std::string>> headers);
  bool has_head() const { return status_code_ != 0; }
  bool head_sent() const { return head_sent_; }

  // Buffers body bytes (cut at the declared Content-Length; dropped when there
  // is no body).
  void Append(std::string_view data);
  // True when enough is buffered that it should be sent now.
  bool ShouldFlush() const { return body_buffer_.size() >= kFlushThreshold; }
  // Sends the head (if not yet sent) and the buffered body. REQUIRES:
  // has_head().
  Status Flush();
  // Sends `count` bytes of a file from `offset` (wsgi.file_wrapper), after the
  // head. REQUIRES: has_head().
  Status SendFile(int file_fd, int64_t offset, int64_t count);
  // Completes the response. REQUIRES: has_head().
  Status Finish();

  // Whether the connection may serve another request after Finish().
  bool keep_alive() const { return keep_alive_; }
  int status_code() const { return status_code_; }
  // The status as the app gave it ("200 OK"); "" before start_response.
  const std::string& status_line() const { return status_line_; }
  int64_t body_bytes() const {
    return body_sent_ + static_cast<int64_t>(body_buffer_.size());
  }
  const std::vector<std::pair<std::string, std::string>>& headers() const {
    return headers_;
  }

  // Writes a complete error response with a short text body and Connection:
  // close.
  static Status WriteError(Connection* conn, int status,
                           std::string_view detail,
                           std::string_view server_header, double io_timeout);

  // "Thu, 26 Nov 2026 10:00:00 GMT", cached per second.
  static std::string_view HttpDate();
  // "Bad Request" for 400 and so on ("Unknown" otherwise).
  static std::string_view ReasonPhrase(int status);

 private:
  static constexpr size_t kFlushThreshold = 65536;
  enum class Framing { kLength, kChunked, kClose, kNoBody };

  // Fills head_buffer_ with the status line and headers, once the framing is
  // known (body_complete: the whole body is buffered, so its length is).
  void BuildHead(bool body_complete);
  // Sets framing_ (and clears keep_alive_ when only a close can end the
  // body); returns the Content-Length value the server adds, or "".
  std::string ChooseFraming(bool body_complete);
  // Writes the head's lines into head_buffer_.
  void WriteHead(std::string_view length_header);

  Connection* conn_;
  Options options_;
  std::string status_line_;
  int status_code_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  int64_t declared_length_ = -1;  // the app's Content-Length
  bool has_date_ = false;
  bool has_server_ = false;
  bool head_sent_ = false;
  bool keep_alive_ = true;
  Framing framing_ = Framing::kLength;
  std::string head_buffer_;
  std::string body_buffer_;
  int64_t body_sent_ = 0;  // body bytes written (framing overhead excluded)
  int64_t accepted_ = 0;   // body bytes accepted into the buffer so far
};

}  // namespace wsgid
