// One frame of `top`: a header with the pool summary and request rate, then the
// workers table with its REQ/S column. Plain lines: the terminal code decides
// how to show them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ctl/request_rates.h"

namespace wsgid::ctl {

struct TopSample {
  nlohmann::json status;   // GET /v1/status
  nlohmann::json workers;  // GET /v1/workers
};

// `problem`, when not empty, is shown under the header (the daemon stopped
// answering while top runs: the last frame stays, marked stale).
std::vector<std::string> RenderTopFrame(const TopSample& sample,
                                        const RequestRates& rates,
                                        const std::string& problem);

}  // namespace wsgid::ctl
