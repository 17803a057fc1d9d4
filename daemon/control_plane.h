// ControlPlane: the master's own servers, started before the first worker and
// stopped before the supervisor goes away: the ops port (/livez /readyz
// /metrics, --ops-bind) and the control API (UNIX socket, and TCP with a
// bearer token read from --control-token-file).
//
// A default address already taken (another wsgid on this machine) is a
// warning and the daemon runs without that server; an address asked for
// explicitly that cannot be used stops the start. Loop thread only; the
// servers' own threads call the ControlBackend.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "daemon/control_api.h"
#include "daemon/control_backend.h"
#include "daemon/metrics.h"
#include "daemon/ops_server.h"

namespace wsgid {

// The control API's options from the configuration (the token aside): the
// default socket path when none is set, no socket for "off".
ControlApi::Options ControlApiOptionsFor(const Config& config);

class ControlPlane {
 public:
  // Fills what /metrics shows beyond the snapshot (metrics_gatherer.h).
  using MetricsGatherer =
      std::function<MetricsInput(const PoolSnapshot&, const RequestTotals&)>;

  ~ControlPlane() { Stop(); }

  // Starts the servers `config` asks for. `backend` (and `gather`, for
  // /metrics) must outlive them: call Stop() before destroying it.
  Status Start(const Config& config, ControlBackend* backend,
               MetricsGatherer gather);
  // Stops the servers and joins their threads.
  void Stop();

 private:
  Status StartOps(const Config& config, ControlBackend* backend,
                  MetricsGatherer gather);
  Status StartControlApi(const Config& config, ControlBackend* backend);

  std::unique_ptr<OpsServer> ops_;
  std::unique_ptr<ControlApi> control_;
};

}  // namespace wsgid
