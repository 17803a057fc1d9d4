// Autoscaler: the scaler in the supervisor loop. Owns the Scaler (the policy)
// and the LoadSampler (its inputs), whether autoscaling is on, and the record
// of its decisions for the API and the metrics. The caller applies a decision
// (the pool's desired count, the workers' thread target).
//
// Pure logic over a LoadReader and `now_ns`: unit-tested with a fake reader.
// Thread-compatible (the supervisor loop owns it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "daemon/control_backend.h"
#include "daemon/load_sampler.h"
#include "daemon/pool_snapshot.h"
#include "daemon/scaler.h"

namespace wsgid {

// The scaler's bounds from the configuration, on a host with `cores` and a
// cgroup memory limit of `cgroup_memory` bytes (the budget when --max-memory
// is unset: 80% of it).
ScalerLimits ScalerLimitsFor(const Config& config, int cores,
                             int64_t cgroup_memory);

class Autoscaler {
 public:
  // The decisions kept for the API, newest last.
  static constexpr size_t kRecentDecisions = 10;

  Autoscaler(ScalerLimits limits, bool enabled)
      : scaler_(limits), enabled_(enabled) {}

  // One loop turn. While off, reads nothing (the first sample after it is
  // turned on only takes starting values). While on, once `period_ns` has
  // passed since the previous sample, samples the `ready` workers and asks the
  // scaler; a decision is logged, counted and returned.
  std::optional<ScalerDecision> Tick(int64_t now_ns, int64_t period_ns,
                                     const std::vector<SampledWorker>& ready,
                                     int desired, int threads,
                                     LoadReader* reader);
  // The control API's kAutoscale: on/off and the scaler's worker bounds, the
  // maximum at most `max_workers` (--max-workers stays as it is). 422 when
  // min ends above max; nothing changes then.
  CommandResult Configure(const Command& command, int max_workers);
  // Fills the scaler's part of a snapshot.
  void Describe(PoolSnapshot* snapshot) const;

  bool enabled() const { return enabled_; }
  const ScalerLimits& limits() const { return scaler_.limits(); }
  const std::map<std::string, uint64_t>& decisions() const {
    return decisions_;
  }
  const std::vector<std::string>& recent_decisions() const { return recent_; }

 private:
  void Record(const ScalerDecision& d);

  Scaler scaler_;
  LoadSampler sampler_;
  bool enabled_;
  std::map<std::string, uint64_t> decisions_;  // "up/workers" -> count
  std::vector<std::string> recent_;            // with reasons, newest last
};

}  // namespace wsgid
