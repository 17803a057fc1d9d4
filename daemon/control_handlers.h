// The control API's handlers, one per route (the table is in
// daemon/control_routes.h). Reads answer from the supervisor's latest snapshot
// and the scoreboard; changes are checked here (shape 400, range 422) and only
// a valid one reaches ControlBackend::Execute, logged with who asked, its
// CommandResult becoming the answer.
//
// Called from the control servers' threads, concurrently: handlers keep no
// state of their own and the backend is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "daemon/control_backend.h"
#include "daemon/control_json.h"

namespace wsgid {

// What every handler reads besides its request. The backend is not owned.
struct ControlContext {
  ControlBackend* backend = nullptr;
  int max_workers = 32;  // --max-workers: the bound of scale and autoscale
  std::string version;   // wsgid's, for /v1/status
};

// One request, once its route is found.
struct ControlRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string client;               // who asked, for the log
  std::vector<std::string> params;  // the route's {id} segments, in order
};

using ControlHandler = ApiAnswer (*)(const ControlContext&,
                                     const ControlRequest&);

// GET /v1/status: version, uptime, generation and the pool's counts.
ApiAnswer GetStatus(const ControlContext& context, const ControlRequest&);
// GET /v1/workers: each worker with its threads' current requests.
ApiAnswer GetWorkers(const ControlContext& context, const ControlRequest&);
// GET /v1/config: the running settings, each with its value (a Python
// literal, as --print-config prints it) and its source (issue 15).
ApiAnswer GetConfig(const ControlContext& context, const ControlRequest&);
// GET /v1/autoscale: the scaler's bounds, counts and recent decisions.
ApiAnswer GetAutoscale(const ControlContext& context, const ControlRequest&);

// POST /v1/scale {"workers": N} or {"delta": ±N}.
ApiAnswer PostScale(const ControlContext& context,
                    const ControlRequest& request);
// POST /v1/threads {"threads": N}.
ApiAnswer PostThreads(const ControlContext& context,
                      const ControlRequest& request);
// POST /v1/reload (empty body or {}).
ApiAnswer PostReload(const ControlContext& context,
                     const ControlRequest& request);
// PUT /v1/autoscale {"enabled": bool, "min": N, "max": N}, each optional.
ApiAnswer PutAutoscale(const ControlContext& context,
                       const ControlRequest& request);
// POST /v1/stop {"graceful": bool} (default graceful).
ApiAnswer PostStop(const ControlContext& context,
                   const ControlRequest& request);
// POST /v1/workers/{id}/restart and .../kill.
// REQUIRES: request.params[0] is the id, 1 to 6 digits.
ApiAnswer PostRestartWorker(const ControlContext& context,
                            const ControlRequest& request);
ApiAnswer PostKillWorker(const ControlContext& context,
                         const ControlRequest& request);

}  // namespace wsgid
