#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>

namespace wsgid {
namespace {

std::atomic<int> g_log_fd{STDERR_FILENO};
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kCritical:
      return "CRITICAL";
  }
  return "?";
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
  if (path.empty() || path == "-") {
    int old = g_log_fd.exchange(STDERR_FILENO);
    if (old != STDERR_FILENO) ::close(old);
    return Status::Ok();
  }
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot open error log " + path, errno);
  int old = g_log_fd.exchange(fd);
  if (old != STDERR_FILENO) ::close(old);
  return Status::Ok();
}

int ErrorLogFd() { return g_log_fd.load(); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load();
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void LogLine(LogLevel level, const std::string& message) {
  char stamp[64];
  time_t now = ::time(nullptr);
  struct tm tm_now;
  ::localtime_r(&now, &tm_now);
  ::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S %z", &tm_now);
  std::string line;
  line.reserve(message.size() + 64);
  line += '[';
  line += stamp;
  line += "] [";
  line += std::to_string(::getpid());
  line += "] [";
  line += LevelName(level);
  line += "] ";
  line += message;
  if (line.back() != '\n') line += '\n';
  WriteAll(g_log_fd.load(), line);
}

}  // namespace wsgid
