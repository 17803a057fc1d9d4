#include "daemon/config_reload.h"

#include "common/log.h"

namespace wsgid {

StatusOr<Config> ConfigReload::Prepare(const Config& running,
                                       ListenerSet* listeners) {
  std::vector<std::string> warnings;
  auto fresh = loader_ ? loader_(&warnings) : StatusOr<Config>(running);
  Status valid = fresh.ok() ? ValidateConfig(*fresh) : fresh.status();
  for (const std::string& w : warnings) Log(LogLevel::kWarning) << w;
  if (!valid.ok())
    return Fail(
        Status::InvalidArgument("invalid configuration: " + valid.message()));
  Config next = std::move(fresh).value();
  if (next.binds.empty()) next.binds = running.binds;
  if (next.binds != running.binds) {
    if (Status s = listeners->Open(next.binds, running.backlog); !s.ok())
      return Fail(s);
    for (const std::string& name : listeners->names())
      Log(LogLevel::kInfo) << "Listening at: " << name;
  }
  next.max_workers = running.max_workers;
  return next;
}

Status ConfigReload::Fail(Status status) {
  Log(LogLevel::kError) << "reload failed: " << status.message()
                        << "; the running generation keeps serving";
  ++failures_;
  return status;
}

void ReopenErrorLog(const Config& config) {
  if (auto format = ParseLogFormat(config.log_format); format.ok())
    SetLogFormat(*format);
  auto level = ParseLogLevel(config.log_level);
  (void)OpenErrorLog(config.error_logfile,
                     level.ok() ? *level : LogLevel::kInfo);
}

}  // namespace wsgid
