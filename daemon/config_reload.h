// ConfigReload: a reload (SIGHUP, POST /v1/reload) up to the point where the
// pool gets its new options. Reads the configuration again (file, environment,
// command line), validates it, and opens the listeners it names (keeping those
// already open); only when all of that succeeded does the caller switch to it.
// A failure is logged, counted, and leaves the running generation serving.
//
// Thread-compatible (the supervisor loop owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "daemon/listener_set.h"

namespace wsgid {

class ConfigReload {
 public:
  // Reads the configuration again; warnings go to the log. Null: the
  // running configuration is reloaded as it is (code only).
  using Loader =
      std::function<StatusOr<Config>(std::vector<std::string>* warnings)>;

  explicit ConfigReload(Loader loader) : loader_(std::move(loader)) {}

  // The configuration to run next. Binds left out keep the running ones;
  // --max-workers stays (it sized the scoreboard). Opens new listeners in
  // `listeners` when the binds changed.
  StatusOr<Config> Prepare(const Config& running, ListenerSet* listeners);
  // Reloads that failed here (invalid configuration, a bind that cannot open).
  uint64_t failures() const { return failures_; }

 private:
  Status Fail(Status status);

  Loader loader_;
  uint64_t failures_ = 0;
};

// Opens the error log of `config` again, in its format (a reload; SIGUSR1 calls
// ReopenLogs in common/log.h).
void ReopenErrorLog(const Config& config);

}  // namespace wsgid
