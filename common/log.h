// Logging shared by the daemon and the workers.
//
// Every record is written with a single write(2) to a file opened with
// O_APPEND, so lines from the master and all workers never interleave. Text
// format, as Gunicorn's:
//   [2026-11-26 10:00:00 +0000] [pid] [INFO] message
// or one JSON object per line with --log-format json (common/log_record.h).
//
// Rotation: ReopenLogs() reopens the error log and runs every reopener added
// with AddLogReopener (the access log, the worker's stdout/stderr), each by
// dup3() over a descriptor number that never changes (common/log_file.h), so
// no writer in any thread loses or splits a line. Any process mode calls it
// on its reopen event: the master on SIGUSR1 (it then signals every worker),
// a worker on SIGUSR1 from its main loop, a zygote or helper process on its
// own signal or command.
// Thread-safe, but for the setters marked REQUIRES.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

#include "common/log_record.h"
#include "common/status.h"

namespace wsgid {

class SyslogSink;

// Parses "debug", "info", "warning", "error", "critical".
StatusOr<LogLevel> ParseLogLevel(const std::string& name);

// Directs the error log to `path` ("-" is stderr) at `level`. Safe to call
// again (reload): the same descriptor number moves to the new file.
Status OpenErrorLog(const std::string& path, LogLevel level);

// Text or JSON records, and the worker id (0: not a worker) and process kind
// JSON records carry (the master's by default).
// REQUIRES: called at boot, before other threads log.
void SetLogFormat(LogFormat format);
LogFormat CurrentLogFormat();
void SetLogWorkerId(int worker_id);
int LogWorkerId();
void SetLogProcess(ProcessKind kind);
// The pid records carry when not this process's own (the stdio relay writes
// its worker's). 0: getpid().
void SetLogRecordPid(int pid);

// Error-log records also go to syslog (--log-syslog); nullptr stops that.
// REQUIRES: called at boot, before other threads log. Owned by the caller,
// who keeps it alive while logging goes on.
void SetErrorSyslog(SyslogSink* sink);
SyslogSink* ErrorSyslog();

// The fd the error log writes to. Its number never changes once opened.
int ErrorLogFd();

// True when a message at `level` would be written.
bool LogEnabled(LogLevel level);

// Gunicorn's statsd log counters (gunicorn.log.warning, .error, .critical,
// .exception): the records at warning and above, by level, except that an
// error logged with its exception (Gunicorn's log.exception: "Error handling
// request") counts as kException only. Counted whatever the level filter, as
// Gunicorn's statsd logger counts. Records relayed from the app's stdout and
// stderr are not counted (Gunicorn does not count them either).
enum class LogCounter { kWarning = 0, kError, kCritical, kException };
constexpr int kLogCounterCount = 4;
// "warning", "error", "critical", "exception".
const char* LogCounterName(LogCounter counter);

// Where this process counts its records: `counters` (kLogCounterCount of
// them; a worker passes its scoreboard slot's, so the master sums them), or
// nullptr for this process's own (the default).
// REQUIRES: the array outlives the logging that uses it.
void SetLogCounters(std::atomic<uint64_t>* counters);
// The counts in this process's own array (what was logged while no
// SetLogCounters array was set: the master's records).
uint64_t LocalLogCount(LogCounter counter);
// Counts one record of `level` (nothing below warning).
void CountLogRecord(LogLevel level, bool exception = false);

// Writes one record from wsgid itself at `level`, and counts it; `exception`:
// counted as Gunicorn's log.exception.
void LogLine(LogLevel level, const std::string& message,
             bool exception = false);

// Writes one record whose text came from `stream` ("stdout", "stderr": the
// app's prints relayed by worker/stdio_relay.h), whatever the level filter.
void LogStreamRecord(LogLevel level, std::string_view stream,
                     std::string_view message);

// Writes `data` to `fd`, retrying on EINTR and short writes. False when a
// write failed (e.g. EPIPE: nobody reads the other end); logging ignores it.
bool WriteAll(int fd, std::string_view data);

// Adds what ReopenLogs() does after reopening the error log.
// REQUIRES: called while the process is single-threaded (boot).
void AddLogReopener(std::function<void()> reopen);

// Forgets every reopener added so far: a process forked from another (a
// preload worker from its zygote) starts with none of its parent's, whose
// descriptors and relay pids are not its own.
// REQUIRES: called while the process is single-threaded.
void ClearLogReopeners();

// Reopens every log of this process (see the top of this file). Failures are
// logged and the old file kept. Call it from one thread at a time.
void ReopenLogs();

// Builds one log line with operator<< and writes it when destroyed:
//   Log(LogLevel::kInfo) << "listening at " << address;
// A record filtered out by the level is still counted (see LogCounter).
class Log {
 public:
  explicit Log(LogLevel level) : level_(level) {}
  // An error with its exception: counted as gunicorn.log.exception.
  static Log Exception() { return Log(LogLevel::kError, true); }
  ~Log() {
    if (LogEnabled(level_))
      LogLine(level_, stream_.str(), exception_);
    else
      CountLogRecord(level_, exception_);
  }
  template <typename T>
  Log& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  Log(LogLevel level, bool exception) : level_(level), exception_(exception) {}
  LogLevel level_;
  bool exception_ = false;
  std::ostringstream stream_;
};

}  // namespace wsgid
