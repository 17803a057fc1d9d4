#include "daemon/autoscaler.h"

#include <algorithm>

#include "common/clock.h"
#include "common/log.h"

namespace wsgid {

ScalerLimits ScalerLimitsFor(const Config& config, int cores,
                             int64_t cgroup_memory) {
  ScalerLimits l;
  l.min_workers = config.min_workers;
  l.max_workers = config.max_workers;
  l.min_threads = config.min_threads;
  l.max_threads = MaxThreads(config);
  l.cores = cores;
  l.memory_budget_bytes = config.max_memory;
  if (l.memory_budget_bytes == 0)
    l.memory_budget_bytes = cgroup_memory * 8 / 10;
  l.scale_down_window_ns = SecondsToNs(config.scale_down_window);
  // issue 16: forked workers are ready in milliseconds.
  if (config.preload)
    l.new_worker_grace_ns = ScalerLimits::kForkedWorkerGraceNs;
  return l;
}

std::optional<ScalerDecision> Autoscaler::Tick(
    int64_t now_ns, int64_t period_ns, const std::vector<SampledWorker>& ready,
    int desired, int threads, LoadReader* reader) {
  if (!enabled_) {
    sampler_.Reset();
    return std::nullopt;
  }
  if (now_ns - sampler_.last_sample_ns() < period_ns) return std::nullopt;
  std::optional<ScalerInputs> in =
      sampler_.Sample(now_ns, ready, desired, threads, reader);
  if (!in) return std::nullopt;
  std::optional<ScalerDecision> d = scaler_.Decide(*in);
  if (d) Record(*d);
  return d;
}

void Autoscaler::Record(const ScalerDecision& d) {
  bool up = d.direction == ScalerDecision::Direction::kUp;
  bool workers = d.kind == ScalerDecision::Kind::kWorkers;
  std::string summary = std::string(up ? "up" : "down") + " to " +
                        std::to_string(d.workers) + " worker(s) x " +
                        std::to_string(d.threads) + " thread(s): " + d.reason;
  Log(LogLevel::kInfo) << "autoscale " << summary;
  ++decisions_[std::string(up ? "up" : "down") + "/" +
               (workers ? "workers" : "threads")];
  recent_.push_back(summary);
  if (recent_.size() > kRecentDecisions) recent_.erase(recent_.begin());
}

CommandResult Autoscaler::Configure(const Command& command, int max_workers) {
  ScalerLimits limits = scaler_.limits();
  if (command.min > 0) limits.min_workers = command.min;
  if (command.max > 0) limits.max_workers = std::min(command.max, max_workers);
  if (limits.min_workers > limits.max_workers)
    return {422, "invalid_value", "min is above max", 0};
  if (command.enabled >= 0) enabled_ = command.enabled == 1;
  scaler_.set_limits(limits);
  Log(LogLevel::kInfo) << "autoscale " << (enabled_ ? "on" : "off")
                       << " (workers " << limits.min_workers << ".."
                       << limits.max_workers << ")";
  return {};
}

void Autoscaler::Describe(PoolSnapshot* s) const {
  s->autoscale = enabled_;
  s->min_workers = scaler_.limits().min_workers;
  s->autoscale_max_workers = scaler_.limits().max_workers;
  s->cores = scaler_.limits().cores;
  s->memory_budget_bytes = scaler_.limits().memory_budget_bytes;
  s->decisions = decisions_;
  s->recent_decisions = recent_;
}

}  // namespace wsgid
