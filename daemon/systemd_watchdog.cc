#include "daemon/systemd_watchdog.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "common/clock.h"
#include "daemon/systemd_notify.h"

namespace wsgid {
namespace {

// A whole positive decimal number, or none.
std::optional<int64_t> PositiveNumber(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

int64_t WatchdogIntervalNs(const char* watchdog_usec, const char* watchdog_pid,
                           int64_t own_pid) {
  std::optional<int64_t> usec = PositiveNumber(watchdog_usec);
  if (!usec || *usec > INT64_MAX / 1000) return 0;
  if (watchdog_pid != nullptr) {
    std::optional<int64_t> pid = PositiveNumber(watchdog_pid);
    if (!pid || *pid != own_pid) return 0;
  }
  // Half the timeout, as sd_watchdog_enabled(3) advises: one late turn of the
  // loop does not get the master killed.
  return *usec * 1000 / 2;
}

std::string StatusLine(const ServiceStatus& status,
                       double requests_per_second) {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f", requests_per_second);
  return "STATUS=" + std::to_string(status.ready_workers) + "/" +
         std::to_string(status.desired_workers) + " workers ready, " + rate +
         " req/s";
}

SystemdWatchdog::SystemdWatchdog(Sender send, bool enabled,
                                 int64_t watchdog_interval_ns)
    : send_(std::move(send)),
      enabled_(enabled),
      interval_ns_(watchdog_interval_ns) {}

SystemdWatchdog SystemdWatchdog::FromEnvironment() {
  bool enabled = ::getenv("NOTIFY_SOCKET") != nullptr;
  return SystemdWatchdog(
      &NotifySystemd, enabled,
      enabled ? WatchdogIntervalNs(::getenv("WATCHDOG_USEC"),
                                   ::getenv("WATCHDOG_PID"), ::getpid())
              : 0);
}

void SystemdWatchdog::Tick(int64_t now_ns,
                           const std::function<ServiceStatus()>& status) {
  if (!enabled_) return;
  if (interval_ns_ > 0 &&
      (!last_ping_ns_ || now_ns - *last_ping_ns_ >= interval_ns_)) {
    send_("WATCHDOG=1");
    last_ping_ns_ = now_ns;
  }
  if (last_status_ns_ && now_ns - *last_status_ns_ < kStatusIntervalNs) return;
  ServiceStatus s = status();
  double rate = 0;
  // The first line has no window yet: 0 req/s; a counter that went back (it
  // never should) also reads 0 rather than a huge number.
  if (last_status_ns_ && now_ns > *last_status_ns_ &&
      s.requests_total >= last_requests_)
    rate = static_cast<double>(s.requests_total - last_requests_) *
           static_cast<double>(kNsPerSec) /
           static_cast<double>(now_ns - *last_status_ns_);
  send_(StatusLine(s, rate));
  last_status_ns_ = now_ns;
  last_requests_ = s.requests_total;
}

}  // namespace wsgid
