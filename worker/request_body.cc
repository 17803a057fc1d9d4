#include "worker/request_body.h"

#include <algorithm>

#include "worker/connection.h"

namespace wsgid {
namespace {

constexpr size_t kFillChunk = 65536;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

RequestBody::RequestBody(Connection* conn, const RequestHead& head,
                         int64_t limit, double io_timeout)
    : conn_(conn),
      kind_(head.body_kind),
      remaining_(head.body_kind == RequestHead::BodyKind::kLength
                     ? head.content_length
                     : 0),
      limit_(limit),
      io_timeout_(io_timeout),
      expect_continue_(head.expect_continue &&
                       head.body_kind != RequestHead::BodyKind::kNone),
      complete_(head.body_kind == RequestHead::BodyKind::kNone) {}

bool RequestBody::Fail(int status, std::string why) {
  if (error_status_ == 0) {
    error_status_ = status;
    error_ = std::move(why);
  }
  // Nothing decoded past the failure reaches the app.
  decoded_.clear();
  decoded_pos_ = 0;
  avail_ = 0;
  return false;
}

std::string_view RequestBody::Peek() const {
  if (kind_ == RequestHead::BodyKind::kLength)
    return conn_->Pending().substr(0, avail_);
  return std::string_view(decoded_).substr(decoded_pos_);
}

int64_t RequestBody::Remaining() const {
  if (kind_ == RequestHead::BodyKind::kChunked) return -1;
  if (failed()) return 0;
  return remaining_ + static_cast<int64_t>(avail_);
}

void RequestBody::Consume(size_t n) {
  if (kind_ == RequestHead::BodyKind::kLength) {
    n = std::min(n, avail_);
    conn_->Consume(n);
    avail_ -= n;
    return;
  }
  decoded_pos_ += n;
  if (decoded_pos_ >= decoded_.size()) {
    decoded_.clear();
    decoded_pos_ = 0;
  }
}

bool RequestBody::ReadMore() {
  if (expect_continue_) {
    expect_continue_ = false;
    if (Status s = conn_->WriteAll(kContinue, io_timeout_); !s.ok())
      return Fail(400, "client gone: " + s.message());
  }
  auto n = conn_->ReadBlocking(io_timeout_);
  if (!n.ok())
    return Fail(408, "reading the request body: " + n.status().message());
  if (*n == 0)
    return Fail(400, "client closed the connection before the end of the body");
  return true;
}

bool RequestBody::Fill() {
  if (failed()) return false;
  if (!Peek().empty()) return true;
  if (complete_) return false;
  if (kind_ == RequestHead::BodyKind::kLength) {
    if (limit_ >= 0 && total_ + remaining_ > limit_)
      return Fail(413, "request body too large");
    if (conn_->Pending().empty() && !ReadMore()) return false;
    size_t n = static_cast<size_t>(std::min<int64_t>(
        remaining_, static_cast<int64_t>(conn_->Pending().size())));
    avail_ = n;  // shown in place, not copied
    remaining_ -= static_cast<int64_t>(n);
    total_ += static_cast<int64_t>(n);
    if (remaining_ == 0) complete_ = true;
    return true;
  }
  // Chunked: decode until some data or the end appears.
  while (true) {
    std::string_view in = conn_->Pending();
    size_t consumed = 0;
    ChunkedDecoder::Result r =
        chunked_.Decode(in, &decoded_, kFillChunk, &consumed);
    conn_->Consume(consumed);
    total_ += static_cast<int64_t>(decoded_.size());
    if (limit_ >= 0 && total_ > limit_)
      return Fail(413, "request body too large");
    if (r == ChunkedDecoder::Result::kError) return Fail(400, chunked_.error());
    if (r == ChunkedDecoder::Result::kDone) complete_ = true;
    if (!decoded_.empty()) return true;
    if (complete_) return false;
    if (!ReadMore()) return false;
  }
}

bool RequestBody::Drainable(int64_t max_bytes) const {
  if (failed()) return false;
  if (complete_) return true;
  if (expect_continue_)
    return false;  // the client is waiting for a 100 we never sent
  if (kind_ == RequestHead::BodyKind::kLength)  // what is still on the wire
    return remaining_ -
               static_cast<int64_t>(conn_->Pending().size() - avail_) <=
           max_bytes;
  return true;  // chunked: the length shows only while draining
}

bool RequestBody::Drain(int64_t max_bytes) {
  if (!Drainable(max_bytes)) return false;
  Consume(Peek().size());  // shown but unread: a Content-Length body's bytes
                           // are still in the connection's buffer
  if (complete_) return true;
  int64_t start = total_;
  while (!complete_) {
    if (!Fill()) return complete_ && !failed();
    Consume(Peek().size());
    if (total_ - start > max_bytes) return false;
  }
  return true;
}

}  // namespace wsgid
