// AccessLog: one line per request in Gunicorn's access log format
// (--access-logformat), written with a single write(2) so lines from all
// workers and threads stay whole.
//
// Atoms: h remote address, l '-', u user ('-'), t time, r request line, m
// method, U path, q query, H protocol, s status, B body bytes, b body bytes or
// '-', f referer, a user agent, T seconds, M milliseconds, D microseconds, L
// seconds (decimal), p pid, {name}i request header, {name}o response header.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"
#include "worker/connection.h"
#include "worker/http_parser.h"

namespace wsgid {

struct AccessLogEntry {
  const Connection* conn;
  const RequestHead* head;
  int status;
  int64_t body_bytes;
  int64_t duration_us;
  const std::vector<std::pair<std::string, std::string>>* response_headers;
};

class AccessLog {
 public:
  // path: a file (appended), "-" for stdout, or empty for no access log.
  Status Open(const std::string& path, std::string format);
  bool enabled() const { return fd_ >= 0; }
  // Formats one line (no trailing newline).
  std::string Format(const AccessLogEntry& entry) const;
  // Appends one line. A failed write (disk full, EIO) loses the line and never
  // the request: the error goes to the error log at most once a minute, with
  // the count of lines lost since it was last said.
  void Write(const AccessLogEntry& entry) const;

 private:
  std::string path_;
  std::string format_;
  UniqueFd owned_;
  int fd_ = -1;
  mutable std::atomic<uint64_t> lost_{0};  // lines lost since the last report
  mutable std::atomic<int64_t> last_report_s_{0};  // CLOCK_MONOTONIC seconds
};

}  // namespace wsgid
