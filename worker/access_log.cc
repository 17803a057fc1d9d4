#include "worker/access_log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "common/syslog_sink.h"

namespace wsgid {

Status AccessLog::Open(AccessLogOptions options) {
  options_ = std::move(options);
  format_ = AccessLogFormat(options_.format);
  fd_ = -1;
  if (options_.path.empty()) return Status::Ok();
  if (options_.path == "-") {
    fd_ = options_.stdout_fd;
    return Status::Ok();
  }
  if (Status s = file_.Open(options_.path, STDOUT_FILENO); !s.ok())
    return Status::Error(s.code(), "cannot open access log: " + s.message());
  fd_ = file_.fd();
  AddLogReopener([this] {
    if (Status s = file_.Reopen(); !s.ok())
      Log(LogLevel::kError) << "reopening the access log: " << s.message()
                            << "; still writing to the old file";
  });
  return Status::Ok();
}

void AccessLog::Write(const AccessLogEntry& entry) const {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  int pid = static_cast<int>(::getpid());
  if (options_.syslog != nullptr)
    options_.syslog->SendAccess(format_.Text(entry, now, pid));
  if (fd_ < 0) return;
  std::string line = options_.log_format == LogFormat::kJson
                         ? format_.Json(entry, now, pid, LogWorkerId())
                         : format_.Text(entry, now, pid) + "\n";
  // As WriteAll (one write(2) keeps lines whole across workers), but a failure
  // is noticed: the line is lost.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReportLost(n < 0 ? errno : ENOSPC);
    done += static_cast<size_t>(n);
  }
}

void AccessLog::ReportLost(int error) const {
  lost_.fetch_add(1, std::memory_order_relaxed);
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now = ts.tv_sec;
  int64_t last = last_report_s_.load(std::memory_order_relaxed);
  // Once a minute at most (one thread wins the exchange): a full disk must not
  // turn every request into an error log line on the same full disk.
  constexpr int64_t kReportIntervalS = 60;
  if (last != 0 && now - last < kReportIntervalS) return;
  if (!last_report_s_.compare_exchange_strong(last, now)) return;
  uint64_t lost = lost_.exchange(0, std::memory_order_relaxed);
  Log(LogLevel::kError) << "access log " << options_.path
                        << ": write failed: " << std::strerror(error) << "; "
                        << lost << " line(s) lost (said at most once a minute)";
}

}  // namespace wsgid
