// Logging shared by the daemon and the workers.
//
// Every line is written with a single write(2) to a file opened with O_APPEND,
// so lines from the master and all workers never interleave. Format, as
// Gunicorn's:
//   [2026-11-26 10:00:00 +0000] [pid] [INFO] message
// Thread-safe.
#pragma once

#include <sstream>
#include <string>

#include "common/status.h"

namespace wsgid {

enum class LogLevel { kDebug = 0, kInfo, kWarning, kError, kCritical };

// Parses "debug", "info", "warning", "error", "critical".
StatusOr<LogLevel> ParseLogLevel(const std::string& name);

// Directs the error log to `path` ("-" is stderr) at `level`. Safe to call
// again to reopen after rotation (SIGUSR1).
Status OpenErrorLog(const std::string& path, LogLevel level);

// The fd the error log writes to (for redirecting a worker's stdout/stderr into
// it).
int ErrorLogFd();

// True when a message at `level` would be written.
bool LogEnabled(LogLevel level);

// Writes one line at `level` (a trailing newline is added when missing).
void LogLine(LogLevel level, const std::string& message);

// Writes `data` with one write(2) to `fd`, retrying on EINTR; best effort.
void WriteAll(int fd, const std::string& data);

// Builds one log line with operator<< and writes it when destroyed:
//   Log(LogLevel::kInfo) << "listening at " << address;
class Log {
 public:
  explicit Log(LogLevel level) : level_(level) {}
  ~Log() {
    if (LogEnabled(level_)) LogLine(level_, stream_.str());
  }
  template <typename T>
  Log& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace wsgid
