// RequestRates: requests per second per worker and for the pool, from the
// difference between two successive /v1/workers samples (the API reports only
// running totals).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "ctl/views.h"

namespace wsgid::ctl {

class RequestRates {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes a new sample, taken at `when`, and recomputes the rates against the
  // previous one. The first sample yields no rates.
  void Update(const nlohmann::json& workers, Clock::time_point when);

  const WorkerRates& per_worker() const { return per_worker_; }
  // The pool's rate: the sum over the live workers; nullopt before the second
  // sample.
  std::optional<double> total() const { return total_; }

 private:
  struct Sample {
    int64_t pid = 0;
    double requests = 0;
  };
  std::map<int64_t, Sample> previous_;  // by worker id
  std::optional<Clock::time_point> previous_time_;
  WorkerRates per_worker_;
  std::optional<double> total_;
};

}  // namespace wsgid::ctl
