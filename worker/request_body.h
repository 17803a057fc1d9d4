// RequestBody: the body of the request being served, decoded on demand from the
// connection (Content-Length or chunked), for wsgi.input.
//
// Streaming: nothing is read before the app asks for it; the interim "100
// Continue" is sent on the first read when the client expects it. Errors (a bad
// chunk, a body over
// --limit-request-body, a stalled or vanished client) make every later read
// fail and are remembered with the status the client should get.
// Thread-compatible: used by the thread that owns the connection; blocking
// calls must run without the GIL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "worker/chunked_decoder.h"
#include "worker/http_parser.h"

namespace wsgid {

class Connection;

class RequestBody {
 public:
  // REQUIRES: `conn` outlives this object; the head has been consumed from
  // conn->in.
  RequestBody(Connection* conn, const RequestHead& head, int64_t limit,
              double io_timeout);

  // Makes decoded bytes available in Peek(), reading from the socket if needed
  // (blocks up to io_timeout). Returns false at the end of the body or on error
  // (see error()).
  bool Fill();
  // Decoded bytes available now. A Content-Length body is not copied: the
  // view points into the connection's input buffer, valid until the next
  // Fill() or Consume().
  std::string_view Peek() const;
  void Consume(size_t n);
  // Body bytes the app has not consumed yet, when known (Content-Length or no
  // body); -1 for a chunked body.
  int64_t Remaining() const;

  // True when the whole body has been read (or there is none).
  bool complete() const { return complete_; }
  // Set once a read failed; the status to answer if the response has not
  // started.
  bool failed() const { return error_status_ != 0; }
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }
  // Whether "100 Continue" has been sent (or was never needed).
  bool continue_sent() const { return !expect_continue_; }
  int64_t bytes_read() const { return total_; }

  // Up to this many unread body bytes are read and discarded after a response
  // so the connection can be kept; a longer unread body closes it instead.
  static constexpr int64_t kMaxDrainBytes = 256 * 1024;

  // Whether Drain() can succeed, as far as is known before the response head is
  // sent (so the head can announce Connection: close when it cannot).
  bool Drainable(int64_t max_bytes = kMaxDrainBytes) const;
  // Reads and discards the rest of the body, at most `max_bytes`, so the
  // connection can serve its next request. False if the body was longer, broken
  // or too slow.
  bool Drain(int64_t max_bytes = kMaxDrainBytes);

 private:
  bool Fail(int status, std::string why);
  // Reads more raw bytes into the connection buffer; false on EOF/error
  // (recorded).
  bool ReadMore();

  Connection* conn_;
  RequestHead::BodyKind kind_;
  int64_t remaining_;  // kLength: bytes not yet made available
  size_t avail_ = 0;   // kLength: bytes at the front of conn_->Pending() that
                       // Peek() shows
  int64_t limit_;      // -1: unlimited
  double io_timeout_;
  bool expect_continue_;
  bool complete_;
  int64_t total_ = 0;
  ChunkedDecoder chunked_;
  std::string decoded_;  // chunked: decoded bytes
  size_t decoded_pos_ = 0;
  int error_status_ = 0;
  std::string error_;
};

}  // namespace wsgid
