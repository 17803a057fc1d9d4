#include "ctl/request_rates.h"

#include "ctl/json_fields.h"

namespace wsgid::ctl {

void RequestRates::Update(const nlohmann::json& workers,
                          Clock::time_point when) {
  std::map<int64_t, Sample> current;
  const nlohmann::json& list = Field(workers, "workers");
  if (list.is_array()) {
    for (const auto& worker : list) {
      auto id = NumberField(worker, "id");
      auto requests = NumberField(worker, "requests");
      if (!id || !requests) continue;
      current[static_cast<int64_t>(*id)] = {
          static_cast<int64_t>(NumberField(worker, "pid").value_or(0)),
          *requests};
    }
  }

  per_worker_.clear();
  total_.reset();
  if (previous_time_) {
    double elapsed =
        std::chrono::duration<double>(when - *previous_time_).count();
    if (elapsed > 0) {
      double total = 0;
      for (const auto& [id, sample] : current) {
        auto before = previous_.find(id);
        double delta = sample.requests;
        // The same process: the difference. A slot taken by a new process
        // (respawn, reload) started counting from zero inside this interval, so
        // all its requests are new; a counter that went backwards is the same
        // case with a reused pid.
        if (before != previous_.end() && before->second.pid == sample.pid &&
            sample.requests >= before->second.requests) {
          delta = sample.requests - before->second.requests;
        }
        per_worker_[id] = delta / elapsed;
        total += delta / elapsed;
      }
      total_ = total;
    }
  }
  previous_ = std::move(current);
  previous_time_ = when;
}

}  // namespace wsgid::ctl
