// Sends error-log records and access lines to syslog (--log-syslog), as
// Gunicorn's SysLogHandler does: "<PRI>TAG: [pid] [LEVEL] message", where TAG
// is "<prefix>.error" or "<prefix>.access" and the prefix is "wsgid", or
// "wsgid.<--log-syslog-prefix>" (Gunicorn: "gunicorn.<prefix>").
//
// Addresses (--log-syslog-to): udp://HOST:PORT, tcp://HOST:PORT (one message
// per line), unix:///PATH or unix:PATH (a datagram socket such as /dev/log).
// Each process opens its own socket. Sends never block (MSG_DONTWAIT): a stuck
// syslog loses messages, never a request. Thread-safe after Open.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/log_record.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

// The facility's number (RFC 5424) for a Gunicorn facility name ("user",
// "daemon", "local0"...).
StatusOr<int> ParseSyslogFacility(const std::string& name);

// Checks the form of an address without connecting.
Status CheckSyslogAddress(const std::string& address);

class SyslogSink {
 public:
  static StatusOr<std::unique_ptr<SyslogSink>> Open(const std::string& address,
                                                    const std::string& facility,
                                                    const std::string& prefix);
  // One error-log record.
  void SendError(LogLevel level, std::string_view message);
  // The socket (a forked relay keeps it open).
  int fd() const { return fd_.get(); }
  // One access line (info severity).
  void SendAccess(std::string_view line);
  // The datagram for one message (unit-tested).
  static std::string Format(int facility, LogLevel level, std::string_view tag,
                            int pid, std::string_view message);

 private:
  void Send(LogLevel level, std::string_view tag, std::string_view message);
  UniqueFd fd_;
  bool stream_ = false;  // tcp: messages end with '\n'
  int facility_ = 1;
  std::string error_tag_;
  std::string access_tag_;
};

}  // namespace wsgid
