#include "daemon/metrics.h"

#include <dirent.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "daemon/worker_pool.h"

namespace wsgid {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// The master's own process_* metrics, from /proc.
void AddProcessMetrics(prometheus::Registry& registry) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  // After the command: state is field 3, utime 14, stime 15, starttime 22,
  // vsize 23, rss 24.
  auto field = [&](int n) {
    return static_cast<size_t>(n - 3) < f.size() ? std::stod(f[n - 3]) : 0.0;
  };
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);)
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  int open_fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++open_fds;
    ::closedir(dir);
  }
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);

  BuildCounter()
      .Name("process_cpu_seconds_total")
      .Help("User and system CPU time of the master, seconds.")
      .Register(registry)
      .Add({})
      .Increment((field(14) + field(15)) / ticks);
  BuildGauge()
      .Name("process_resident_memory_bytes")
      .Help("Resident memory of the master, bytes.")
      .Register(registry)
      .Add({})
      .Set(field(24) * page);
  BuildGauge()
      .Name("process_virtual_memory_bytes")
      .Help("Virtual memory of the master, bytes.")
      .Register(registry)
      .Add({})
      .Set(field(23));
  BuildGauge()
      .Name("process_start_time_seconds")
      .Help("Start time of the master since the epoch, seconds.")
      .Register(registry)
      .Add({})
      .Set(boot_time + field(22) / ticks);
  BuildGauge()
      .Name("process_open_fds")
      .Help("Open file descriptors of the master.")
      .Register(registry)
      .Add({})
      .Set(open_fds);
  BuildGauge()
      .Name("process_max_fds")
      .Help("File descriptor limit of the master.")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(nofile.rlim_cur));
}

}  // namespace

std::string RenderMetrics(const MetricsInput& in) {
  const PoolSnapshot& pool = *in.pool;
  const RequestTotals& totals = *in.totals;
  prometheus::Registry registry;

  BuildGauge()
      .Name("wsgid_build_info")
      .Help("wsgid's version; always 1.")
      .Register(registry)
      .Add({{"version", WSGID_VERSION}})
      .Set(1);

  auto& workers = BuildGauge()
                      .Name("wsgid_workers")
                      .Help("Worker processes by state.")
                      .Register(registry);
  for (WorkerState state : kWorkerStates)
    workers.Add({{"state", std::string(WorkerStateName(state))}})
        .Set(pool.CountInState(state));
  BuildGauge()
      .Name("wsgid_workers_desired")
      .Help("The worker count the pool is kept at.")
      .Register(registry)
      .Add({})
      .Set(pool.desired);

  int running_threads = in.running_threads;
  int busy = std::min(in.busy_threads, running_threads);
  auto& threads = BuildGauge()
                      .Name("wsgid_worker_threads")
                      .Help("App threads of the live workers by state.")
                      .Register(registry);
  threads.Add({{"state", "idle"}}).Set(running_threads - busy);
  threads.Add({{"state", "busy"}}).Set(busy);
  BuildGauge()
      .Name("wsgid_http_requests_in_flight")
      .Help("Requests being served now.")
      .Register(registry)
      .Add({})
      .Set(busy);

  BuildCounter()
      .Name("wsgid_worker_spawns_total")
      .Help("Workers started.")
      .Register(registry)
      .Add({})
      .Increment(static_cast<double>(pool.spawns));
  auto& exits = BuildCounter()
                    .Name("wsgid_worker_exits_total")
                    .Help("Workers that exited, by reason.")
                    .Register(registry);
  for (const char* reason : WorkerPool::kExitReasons) {
    auto it = pool.exits.find(reason);
    exits.Add({{"reason", reason}})
        .Increment(it == pool.exits.end() ? 0
                                          : static_cast<double>(it->second));
  }

  auto& heartbeat =
      BuildGauge()
          .Name("wsgid_worker_heartbeat_age_seconds")
          .Help("Age of each worker's heartbeat, by scoreboard slot.")
          .Register(registry);
  auto& rss = BuildGauge()
                  .Name("wsgid_worker_resident_memory_bytes")
                  .Help("Resident memory of each worker, by scoreboard slot.")
                  .Register(registry);
  for (const auto& w : in.workers) {
    heartbeat.Add({{"worker", std::to_string(w.id)}})
        .Set(w.heartbeat_age_seconds);
    rss.Add({{"worker", std::to_string(w.id)}})
        .Set(static_cast<double>(w.rss_bytes));
  }
  auto& queue =
      BuildGauge()
          .Name("wsgid_listen_queue_length")
          .Help("Connections waiting in each listener's accept queue (TCP).")
          .Register(registry);
  for (const auto& [listener, length] : in.listen_queues)
    queue.Add({{"listener", listener}}).Set(static_cast<double>(length));

  auto& requests = BuildCounter()
                       .Name("wsgid_http_requests_total")
                       .Help("Requests answered, by method and status code.")
                       .Register(registry);
  for (int m = 0; m < kMethodCount; ++m)
    for (int c = 0; c < kCodeCount; ++c)
      requests.Add({{"method", kMethodLabels[m]}, {"code", CodeLabel(c)}})
          .Increment(static_cast<double>(totals.responses[m][c]));

  prometheus::Histogram::BucketBoundaries bounds(std::begin(kLatencyBounds),
                                                 std::end(kLatencyBounds));
  auto& duration =
      BuildHistogram()
          .Name("wsgid_http_request_duration_seconds")
          .Help("Time from a request's parsed head to its last byte written.")
          .Register(registry)
          .Add({}, bounds);
  std::vector<double> buckets(std::begin(totals.latency),
                              std::end(totals.latency));
  duration.ObserveMultiple(buckets,
                           static_cast<double>(totals.latency_sum_us) / 1e6);

  BuildCounter()
      .Name("wsgid_http_response_body_bytes_total")
      .Help("Response body bytes sent.")
      .Register(registry)
      .Add({})
      .Increment(static_cast<double>(totals.bytes_out));
  BuildCounter()
      .Name("wsgid_app_exceptions_total")
      .Help("Requests the application failed with an exception.")
      .Register(registry)
      .Add({})
      .Increment(static_cast<double>(totals.app_exceptions));
  BuildCounter()
      .Name("wsgid_connections_accepted_total")
      .Help("Connections accepted by the workers.")
      .Register(registry)
      .Add({})
      .Increment(static_cast<double>(totals.accepts));

  auto& reloads = BuildCounter()
                      .Name("wsgid_config_reloads_total")
                      .Help("Reloads, by result.")
                      .Register(registry);
  reloads.Add({{"result", "ok"}})
      .Increment(static_cast<double>(pool.reloads_ok));
  reloads.Add({{"result", "failed"}})
      .Increment(static_cast<double>(pool.reloads_failed));

  // The scaler's metrics exist whether or not autoscaling is on.
  auto& decisions = BuildCounter()
                        .Name("wsgid_autoscale_decisions_total")
                        .Help("Autoscaling decisions, by direction and kind.")
                        .Register(registry);
  for (const char* direction : {"up", "down"}) {
    for (const char* kind : {"workers", "threads"}) {
      auto it = pool.decisions.find(std::string(direction) + "/" + kind);
      decisions.Add({{"direction", direction}, {"kind", kind}})
          .Increment(
              it == pool.decisions.end() ? 0 : static_cast<double>(it->second));
    }
  }
  BuildGauge()
      .Name("wsgid_autoscale_enabled")
      .Help("1 while the scaler tunes the pool.")
      .Register(registry)
      .Add({})
      .Set(in.autoscale_enabled ? 1 : 0);

  AddProcessMetrics(registry);
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace wsgid
