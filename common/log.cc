#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <vector>

#include "common/log_file.h"
#include "common/syslog_sink.h"

namespace wsgid {
namespace {

// The error log's descriptor; STDERR_FILENO until OpenErrorLog.
std::atomic<int> g_log_fd{STDERR_FILENO};
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::atomic<int> g_worker_id{0};
std::atomic<int> g_record_pid{0};
std::atomic<int> g_process{static_cast<int>(ProcessKind::kMaster)};
std::atomic<SyslogSink*> g_syslog{nullptr};
std::atomic<uint64_t> g_local_counts[kLogCounterCount];
std::atomic<std::atomic<uint64_t>*> g_counts{g_local_counts};

LogFile& ErrorLogFile() {
  static LogFile* file = new LogFile();  // never destroyed: logged at exit
  return *file;
}

std::mutex& ReopenersMutex() {
  static std::mutex* mutex = new std::mutex();
  return *mutex;
}

std::vector<std::function<void()>>& Reopeners() {
  static auto* reopeners = new std::vector<std::function<void()>>();
  return *reopeners;
}

void WriteRecord(LogLevel level, std::string_view stream,
                 std::string_view message) {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  int pid = g_record_pid.load();
  RecordSource source{pid != 0 ? pid : static_cast<int>(::getpid()),
                      g_worker_id.load(), stream,
                      static_cast<ProcessKind>(g_process.load())};
  WriteAll(g_log_fd.load(),
           FormatErrorRecord(CurrentLogFormat(), level, message, source, now));
  if (SyslogSink* sink = g_syslog.load()) sink->SendError(level, message);
}

}  // namespace

StatusOr<LogLevel> ParseLogLevel(const std::string& name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warning") return LogLevel::kWarning;
  if (name == "error") return LogLevel::kError;
  if (name == "critical") return LogLevel::kCritical;
  return Status::InvalidArgument(
      "invalid log level '" + name +
      "' (expected debug, info, warning, error or critical)");
}

Status OpenErrorLog(const std::string& path, LogLevel level) {
  g_level = static_cast<int>(level);
  Status s = ErrorLogFile().Open(path, STDERR_FILENO);
  if (!s.ok())
    return Status::Error(s.code(), "cannot open error log: " + s.message());
  g_log_fd = ErrorLogFile().fd();
  return Status::Ok();
}

void SetLogFormat(LogFormat format) { g_format = static_cast<int>(format); }
LogFormat CurrentLogFormat() { return static_cast<LogFormat>(g_format.load()); }
void SetLogWorkerId(int worker_id) { g_worker_id = worker_id; }
int LogWorkerId() { return g_worker_id.load(); }
void SetLogRecordPid(int pid) { g_record_pid = pid; }
void SetLogProcess(ProcessKind kind) { g_process = static_cast<int>(kind); }
void SetErrorSyslog(SyslogSink* sink) { g_syslog = sink; }
SyslogSink* ErrorSyslog() { return g_syslog.load(); }

int ErrorLogFd() { return g_log_fd.load(); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load();
}

bool WriteAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

const char* LogCounterName(LogCounter counter) {
  switch (counter) {
    case LogCounter::kWarning:
      return "warning";
    case LogCounter::kError:
      return "error";
    case LogCounter::kCritical:
      return "critical";
    case LogCounter::kException:
      return "exception";
  }
  return "error";
}

void SetLogCounters(std::atomic<uint64_t>* counters) {
  g_counts = counters != nullptr ? counters : g_local_counts;
}

uint64_t LocalLogCount(LogCounter counter) {
  return g_local_counts[static_cast<int>(counter)].load(
      std::memory_order_relaxed);
}

void CountLogRecord(LogLevel level, bool exception) {
  LogCounter counter;
  if (exception)
    counter = LogCounter::kException;
  else if (level == LogLevel::kWarning)
    counter = LogCounter::kWarning;
  else if (level == LogLevel::kError)
    counter = LogCounter::kError;
  else if (level == LogLevel::kCritical)
    counter = LogCounter::kCritical;
  else
    return;
  g_counts.load()[static_cast<int>(counter)].fetch_add(
      1, std::memory_order_relaxed);
}

void LogLine(LogLevel level, const std::string& message, bool exception) {
  CountLogRecord(level, exception);
  WriteRecord(level, "log", message);
}

void LogStreamRecord(LogLevel level, std::string_view stream,
                     std::string_view message) {
  WriteRecord(level, stream, message);
}

void AddLogReopener(std::function<void()> reopen) {
  std::lock_guard<std::mutex> lock(ReopenersMutex());
  Reopeners().push_back(std::move(reopen));
}

void ClearLogReopeners() {
  std::lock_guard<std::mutex> lock(ReopenersMutex());
  Reopeners().clear();
}

void ReopenLogs() {
  if (Status s = ErrorLogFile().Reopen(); !s.ok())
    Log(LogLevel::kError) << "reopening the error log: " << s.message()
                          << "; still writing to the old file";
  std::lock_guard<std::mutex> lock(ReopenersMutex());
  for (const auto& reopen : Reopeners()) reopen();
}

}  // namespace wsgid
