// The human renderings of the API's answers, shared by the one-shot commands
// and top: the status listing, the workers table, and a one-line pool summary.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ctl/table.h"

namespace wsgid::ctl {

// GET /v1/status as key/value lines.
std::string RenderStatus(const nlohmann::json& status);

// GET /v1/autoscale (or the answer to PUT) as key/value lines.
std::string RenderAutoscale(const nlohmann::json& autoscale);

// Requests per second by worker id, as top measures them; absent: not measured
// yet.
using WorkerRates = std::map<int64_t, double>;

// GET /v1/workers as a table, one row per worker sorted by id. With `rates` the
// table gains a REQ/S column (top).
Table WorkersTable(const nlohmann::json& workers, const WorkerRates* rates);

// "2/2 ready (0 starting, 0 draining), desired 2, max 32" from /v1/status.
std::string PoolSummary(const nlohmann::json& status);

// "4 per worker, 1 busy" from /v1/status (pool.threads is the per-worker
// target, busy_threads the pool-wide count).
std::string ThreadsSummary(const nlohmann::json& status);

// "on (min 1, max 8)" or "off" from an autoscale object.
std::string AutoscaleSummary(const nlohmann::json& autoscale);

// The worker's longest-running request: "GET /x 1.2s", with "+N" when more run;
// "-" when idle.
std::string CurrentRequestText(const nlohmann::json& worker);

}  // namespace wsgid::ctl
