// The Prometheus exposition of /metrics (text format 0.0.4), built with
// prometheus-cpp's core and TextSerializer.
//
// Every known label value is exported from the start (at 0): prometheus-cpp
// prints nothing for a label set never created, and dashboards and alerts must
// not see holes.
// `{state}` labels partition: workers over starting/ready/draining, threads
// over idle/busy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/pool_snapshot.h"

namespace wsgid {

struct MetricsInput {
  const PoolSnapshot* pool = nullptr;
  const RequestTotals* totals = nullptr;
  int busy_threads = 0;     // app threads inside a request now (= in flight)
  int running_threads = 0;  // app threads of the live workers
  struct WorkerGauges {
    int id;
    double heartbeat_age_seconds;
    int64_t rss_bytes;
    int64_t shared_bytes = 0;  // of those, shared with other processes
  };
  std::vector<WorkerGauges> workers;
  std::vector<std::pair<std::string, int64_t>>
      listen_queues;  // listener, queue length
  bool autoscale_enabled = false;
  // --preload (issue 16): the newest zygote's memory (0 when none).
  int64_t zygote_rss_bytes = 0;
  int64_t zygote_pss_bytes = 0;
};

// The exposition text: the pool's, the workers' and the requests' metrics from
// `input`, then the master's own process_* ones read from /proc/self. Called
// on the ops server's threads; keeps no state, so thread-safe.
// REQUIRES: input.pool and input.totals point to live objects.
std::string RenderMetrics(const MetricsInput& input);

// The Content-Type of that text.
inline constexpr const char* kMetricsContentType =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace wsgid
