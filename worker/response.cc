#include "worker/response.h"

#include <sys/uio.h>

#include <cstdio>
#include <ctime>
#include <mutex>

#include "worker/connection.h"
#include "worker/http_parser.h"
#include "worker/request_body.h"

namespace wsgid {
namespace {

bool HasForbiddenChar(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return true;
  return false;
}

bool IsHopByHop(std::string_view name) {
  static constexpr std::string_view kHopByHop[] = {
      "connection", "keep-alive",        "proxy-connection", "te",
      "trailer",    "transfer-encoding", "upgrade"};
  for (std::string_view h : kHopByHop)
    if (EqualsIgnoreCase(name, h)) return true;
  return false;
}

// The three-digit code of a WSGI status line ("200 OK"); -1 when the line is
// malformed (or the code below 100).
int StatusCodeOf(std::string_view status) {
  if (status.size() < 4 || status[3] != ' ' || HasForbiddenChar(status))
    return -1;
  int code = 0;
  for (int i = 0; i < 3; ++i) {
    if (status[i] < '0' || status[i] > '9') return -1;
    code = code * 10 + (status[i] - '0');
  }
  return code < 100 ? -1 : code;
}

// An app's Content-Length value: 1 to 18 decimal digits; -1 when invalid.
int64_t ContentLengthOf(std::string_view value) {
  if (value.empty() || value.size() > 18) return -1;
  int64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string Hex(size_t n) {
  char buf[32];
  int len = std::snprintf(buf, sizeof buf, "%zx", n);
  return std::string(buf, static_cast<size_t>(len));
}

}  // namespace

std::string_view Response::HttpDate() {
  thread_local time_t cached_second = 0;
  thread_local char cached[64];
  thread_local size_t cached_len = 0;
  time_t now = ::time(nullptr);
  if (now != cached_second) {
    struct tm tm_now;
    ::gmtime_r(&now, &tm_now);
    cached_len =
        ::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm_now);
    cached_second = now;
  }
  return std::string_view(cached, cached_len);
}

std::string_view Response::ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

Status Response::SetHead(
    std::string_view status,
    std::vector<std::pair<std::string, std::string>> headers) {
  if (head_sent_) return Status::InvalidArgument("response head already sent");
  int code = StatusCodeOf(status);
  if (code < 0)
    return Status::InvalidArgument("invalid status '" + std::string(status) +
                                   "'");
  // Validated into locals first: a rejected head leaves the earlier one as it
  // was.
  int64_t declared_length = -1;
  bool has_date = false, has_server = false;
  size_t kept = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    auto& [name, value] = headers[i];
    if (name.empty() || HasForbiddenChar(name) || HasForbiddenChar(value))
      return Status::InvalidArgument("header " + name +
                                     " contains a CR, LF or NUL character");
    for (unsigned char c : name)
      if (!IsTokenChar(c))
        return Status::InvalidArgument("invalid header name '" + name + "'");
    if (IsHopByHop(name)) continue;
    if (EqualsIgnoreCase(name, "content-length")) {
      int64_t n = ContentLengthOf(value);
      if (n < 0 || (declared_length >= 0 && declared_length != n))
        return Status::InvalidArgument(
            "invalid or conflicting Content-Length '" + value + "'");
      if (declared_length == n) continue;  // an exact repeat says nothing new
      declared_length = n;
    } else if (EqualsIgnoreCase(name, "date")) {
      has_date = true;
    } else if (EqualsIgnoreCase(name, "server")) {
      has_server = true;
    }
    if (kept != i) headers[kept] = std::move(headers[i]);
    ++kept;
  }
  headers.resize(kept);
  headers_ = std::move(headers);
  declared_length_ = declared_length;
  has_date_ = has_date;
  has_server_ = has_server;
  status_line_.assign(status);
  status_code_ = code;
  return Status::Ok();
}

void Response::Append(std::string_view data) {
  if (framing_ == Framing::kNoBody && head_sent_) return;
  if (declared_length_ >= 0) {
    int64_t room = declared_length_ - accepted_;
    if (room <= 0) return;
    if (static_cast<int64_t>(data.size()) > room)
      data = data.substr(0, static_cast<size_t>(room));
  }
  accepted_ += static_cast<int64_t>(data.size());
  body_buffer_.append(data);
}

void Response::BuildHead(bool body_complete) {
  keep_alive_ = options_.keep_alive && (options_.request_body == nullptr ||
                                        options_.request_body->Drainable());
  std::string length_header = ChooseFraming(body_complete);
  WriteHead(length_header);
  if (framing_ == Framing::kNoBody) body_buffer_.clear();
}

std::string Response::ChooseFraming(bool body_complete) {
  bool no_body = options_.is_head || status_code_ < 200 ||
                 status_code_ == 204 || status_code_ == 304;
  std::string length_header;
  if (no_body) {
    framing_ = Framing::kNoBody;
    // HEAD: the app's Content-Length describes the GET body; keep it as is.
    if (options_.is_head && declared_length_ < 0 && body_complete &&
        status_code_ >= 200 && status_code_ != 204 && status_code_ != 304)
      length_header = std::to_string(body_buffer_.size());
  } else if (declared_length_ >= 0) {
    framing_ = Framing::kLength;
  } else if (body_complete) {
    framing_ = Framing::kLength;
    length_header = std::to_string(body_buffer_.size());
  } else if (options_.version_minor >= 1) {
    framing_ = Framing::kChunked;
  } else {
    framing_ = Framing::kClose;
    keep_alive_ = false;
  }
  return length_header;
}

void Response::WriteHead(std::string_view length_header) {
  std::string& h = head_buffer_;
  h.clear();
  h.reserve(256);
  h += options_.version_minor >= 1 ? "HTTP/1.1 " : "HTTP/1.0 ";
  h += status_line_;
  h += "\r\n";
  for (const auto& [name, value] : headers_) {
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  }
  if (!length_header.empty()) {
    h += "Content-Length: ";
    h += length_header;
    h += "\r\n";
  }
  if (framing_ == Framing::kChunked) h += "Transfer-Encoding: chunked\r\n";
  if (!has_date_) {
    h += "Date: ";
    h += HttpDate();
    h += "\r\n";
  }
  if (!has_server_ && !options_.server_header.empty()) {
    h += "Server: ";
    h += options_.server_header;
    h += "\r\n";
  }
  if (!keep_alive_) {
    h += "Connection: close\r\n";
  } else if (options_.version_minor == 0) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
}

Status Response::Flush() {
  bool send_head = !head_sent_;
  if (send_head) BuildHead(/*body_complete=*/false);
  iovec iov[4];
  int n = 0;
  std::string chunk_prefix;
  if (send_head) iov[n++] = {head_buffer_.data(), head_buffer_.size()};
  if (!body_buffer_.empty()) {
    if (framing_ == Framing::kChunked) {
      chunk_prefix = Hex(body_buffer_.size()) + "\r\n";
      iov[n++] = {chunk_prefix.data(), chunk_prefix.size()};
      iov[n++] = {body_buffer_.data(), body_buffer_.size()};
      iov[n++] = {const_cast<char*>("\r\n"), 2};
    } else {
      iov[n++] = {body_buffer_.data(), body_buffer_.size()};
    }
  }
  head_sent_ = true;
  Status s = conn_->WriteAll(iov, n, options_.io_timeout);
  body_sent_ += static_cast<int64_t>(body_buffer_.size());
  body_buffer_.clear();
  if (!s.ok()) keep_alive_ = false;
  return s;
}

Status Response::SendFile(int file_fd, int64_t offset, int64_t count) {
  if (declared_length_ >= 0)
    count = std::min(count, declared_length_ - accepted_);
  if (!head_sent_ || !body_buffer_.empty()) {
    if (Status s = Flush(); !s.ok()) return s;
  }
  if (framing_ == Framing::kNoBody || count <= 0) return Status::Ok();
  if (framing_ == Framing::kChunked) {
    std::string prefix = Hex(static_cast<size_t>(count)) + "\r\n";
    if (Status s = conn_->WriteAll(prefix, options_.io_timeout); !s.ok())
      return s;
  }
  auto sent = conn_->SendFile(file_fd, offset, count, options_.io_timeout);
  if (!sent.ok()) {
    keep_alive_ = false;
    return sent.status();
  }
  body_sent_ += *sent;
  accepted_ += *sent;
  if (*sent < count) {
    keep_alive_ = false;  // the framing promised more than the file had
    return Status::Internal("file shorter than expected");
  }
  if (framing_ == Framing::kChunked)
    return conn_->WriteAll("\r\n", options_.io_timeout);
  return Status::Ok();
}

Status Response::Finish() {
  if (!head_sent_) {
    bool expects_body = !options_.is_head && status_code_ >= 200 &&
                        status_code_ != 204 && status_code_ != 304;
    if (expects_body && declared_length_ >= 0 && accepted_ < declared_length_)
      options_.keep_alive = false;
    BuildHead(/*body_complete=*/true);
    iovec iov[2] = {{head_buffer_.data(), head_buffer_.size()},
                    {body_buffer_.data(), body_buffer_.size()}};
    head_sent_ = true;
    Status s = conn_->WriteAll(iov, 2, options_.io_timeout);
    body_sent_ += static_cast<int64_t>(body_buffer_.size());
    body_buffer_.clear();
    if (!s.ok()) keep_alive_ = false;
    return s;
  }
  if (!body_buffer_.empty()) {
    if (Status s = Flush(); !s.ok()) return s;
  }
  if (framing_ == Framing::kChunked) {
    Status s = conn_->WriteAll("0\r\n\r\n", options_.io_timeout);
    if (!s.ok()) keep_alive_ = false;
    return s;
  }
  if (framing_ == Framing::kLength && declared_length_ >= 0 &&
      body_sent_ < declared_length_) {
    keep_alive_ =
        false;  // the client would wait for bytes that never come: close
    return Status::Internal("response shorter than its Content-Length");
  }
  return Status::Ok();
}

Status Response::WriteError(Connection* conn, int status,
                            std::string_view detail,
                            std::string_view server_header, double io_timeout) {
  std::string body(ReasonPhrase(status));
  body += "\n";
  if (!detail.empty()) {
    body += detail;
    body += "\n";
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += ReasonPhrase(status);
  out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nDate: ";
  out += HttpDate();
  if (!server_header.empty()) {
    out += "\r\nServer: ";
    out += server_header;
  }
  out += "\r\nConnection: close\r\n\r\n";
  out += body;
  return conn->WriteAll(out, io_timeout);
}

}  // namespace wsgid
