#include "worker/process_logs.h"

#include "common/log.h"
#include "worker/stdio_relay.h"

namespace wsgid {

Status OpenProcessErrorLog(const Config& config, ProcessKind kind) {
  auto level = ParseLogLevel(config.log_level);
  if (Status s = OpenErrorLog(config.error_logfile,
                              level.ok() ? *level : LogLevel::kInfo);
      !s.ok())
    return s;
  auto format = ParseLogFormat(config.log_format);
  SetLogFormat(format.ok() ? *format : LogFormat::kText);
  SetLogProcess(kind);
  return Status::Ok();
}

Status CaptureStdioIntoErrorLog(const Config& config) {
  if (config.enable_stdio_inheritance && !config.capture_output)
    return Status::Ok();
  return CurrentLogFormat() == LogFormat::kJson ? StartStdioRelay()
                                                : RedirectStdioToErrorLog();
}

}  // namespace wsgid
