// AccessLog: one line per request, written as the request completes (never
// buffered), with a single write(2) so lines from all workers and threads stay
// whole. The format is access_log_format.h; --log-format json makes it a JSON
// record. Lines also go to syslog with --log-syslog unless
// --disable-redirect-access-to-syslog.
//
// Rotation: the file sits at a descriptor number that never changes
// (common/log_file.h); Open registers a reopener with ReopenLogs()
// (common/log.h), so SIGUSR1 moves it to the new file while other threads
// write. The AccessLog must outlive the process's logging (the worker's
// WsgiHandler does).
// Thread-safe: Write from any thread; Open once, at boot.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/log_file.h"
#include "common/status.h"
#include "worker/access_log_format.h"

namespace wsgid {

class SyslogSink;

struct AccessLogOptions {
  std::string path;  // a file (appended), "-" for stdout, empty: no file
  std::string format;
  LogFormat log_format = LogFormat::kText;
  // Where "-" writes (the worker's stdout before it was redirected).
  int stdout_fd = 1;
  SyslogSink* syslog = nullptr;  // not owned; nullptr: no syslog
};

class AccessLog {
 public:
  Status Open(AccessLogOptions options);
  bool enabled() const { return fd_ >= 0 || options_.syslog != nullptr; }
  const AccessLogFormat& format() const { return format_; }
  // Appends one line. A failed write (disk full, EIO) loses the line and never
  // the request: the error goes to the error log at most once a minute, with
  // the count of lines lost since it was last said.
  void Write(const AccessLogEntry& entry) const;

 private:
  void ReportLost(int error) const;
  AccessLogOptions options_;
  AccessLogFormat format_;
  LogFile file_;
  int fd_ = -1;
  mutable std::atomic<uint64_t> lost_{0};  // lines lost since the last report
  mutable std::atomic<int64_t> last_report_s_{0};  // CLOCK_MONOTONIC seconds
};

}  // namespace wsgid
