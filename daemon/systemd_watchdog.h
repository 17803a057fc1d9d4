// SystemdWatchdog: what the supervisor loop tells systemd while it runs, beside
// the state lines of systemd_notify.h: "WATCHDOG=1" every half of the unit's
// WatchdogSec= (systemd passes it as $WATCHDOG_USEC), so a master whose loop
// stops turning stops pinging and systemd restarts it; and a "STATUS=" line
// (`systemctl status` shows it) with the workers ready and the request rate.
//
// Who calls: the supervisor, once per loop turn (Tick), from the loop's thread
// only; not thread-safe. Pure logic over `now_ns` and an injected sender, so
// the unit tests drive it with a fake clock and a recording sender.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace wsgid {

// The watchdog ping interval for this process: half of $WATCHDOG_USEC, or 0
// (no pings) when it is unset, not a positive number, or $WATCHDOG_PID names
// another process (systemd sets it for the main process only; a child that
// inherited the environment must not ping for it).
int64_t WatchdogIntervalNs(const char* watchdog_usec, const char* watchdog_pid,
                           int64_t own_pid);

// What STATUS= reports.
struct ServiceStatus {
  int ready_workers = 0;
  int desired_workers = 0;
  uint64_t requests_total = 0;  // monotonic: every response so far
};

// "STATUS=3/4 workers ready, 12.5 req/s".
std::string StatusLine(const ServiceStatus& status, double requests_per_second);

class SystemdWatchdog {
 public:
  using Sender = std::function<void(const std::string&)>;
  // How often STATUS= is refreshed (and the window of its req/s).
  static constexpr int64_t kStatusIntervalNs = 5'000'000'000;

  // `enabled`: whether anything is sent at all ($NOTIFY_SOCKET set); a
  // `watchdog_interval_ns` of 0 sends no WATCHDOG=1.
  SystemdWatchdog(Sender send, bool enabled, int64_t watchdog_interval_ns);
  // From this process's environment, sending with NotifySystemd.
  static SystemdWatchdog FromEnvironment();

  // One loop turn: a ping when the interval has passed since the last one (the
  // first turn pings at once), a STATUS= line every kStatusIntervalNs.
  // `status` is called only when a STATUS= line is due.
  void Tick(int64_t now_ns, const std::function<ServiceStatus()>& status);

  bool enabled() const { return enabled_; }
  int64_t watchdog_interval_ns() const { return interval_ns_; }

 private:
  Sender send_;
  bool enabled_;
  int64_t interval_ns_;
  std::optional<int64_t> last_ping_ns_;
  std::optional<int64_t> last_status_ns_;
  uint64_t last_requests_ = 0;
};

}  // namespace wsgid
