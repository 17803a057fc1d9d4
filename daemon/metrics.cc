#include "daemon/metrics.h"

#include <dirent.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/worker_pool.h"
#include "daemon/zygote_lifecycle.h"

namespace wsgid {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Registry;

// The exposition lists counters, then gauges, then histograms, each kind in
// the order its families were registered here: the Add* functions below
// register in the order the output has always had.

// A counter without labels, at `value`.
void AddCounter(Registry& registry, const char* name, const char* help,
                double value) {
  BuildCounter().Name(name).Help(help).Register(registry).Add({}).Increment(
      value);
}

// A gauge without labels, at `value`.
void AddGauge(Registry& registry, const char* name, const char* help,
              double value) {
  BuildGauge().Name(name).Help(help).Register(registry).Add({}).Set(value);
}

// What the master knows of itself from /proc.
struct ProcessFigures {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // since the epoch
  int open_fds = 0;
  double max_fds = 0;
};

// /proc/self/stat's fields after the command ("(wsgid) "), whose parentheses
// and spaces would confuse a plain split.
std::vector<std::string> SelfStatFields() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  return {std::istream_iterator<std::string>(fields), {}};
}

// The boot time, seconds since the epoch (/proc/stat's btime).
double BootTimeSeconds() {
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);)
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  return boot_time;
}

int CountOpenFds() {
  int open_fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++open_fds;
    ::closedir(dir);
  }
  return open_fds;
}

ProcessFigures ReadProcessFigures() {
  std::vector<std::string> f = SelfStatFields();
  // After the command: state is field 3, utime 14, stime 15, starttime 22,
  // vsize 23, rss 24.
  auto field = [&](int n) {
    return static_cast<size_t>(n - 3) < f.size() ? std::stod(f[n - 3]) : 0.0;
  };
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessFigures p;
  p.cpu_seconds = (field(14) + field(15)) / ticks;
  p.resident_bytes = field(24) * page;
  p.virtual_bytes = field(23);
  p.start_time_seconds = BootTimeSeconds() + field(22) / ticks;
  p.open_fds = CountOpenFds();
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  p.max_fds = static_cast<double>(nofile.rlim_cur);
  return p;
}

// The master's own process_* metrics.
void AddProcessMetrics(Registry& registry) {
  ProcessFigures p = ReadProcessFigures();
  AddCounter(registry, "process_cpu_seconds_total",
             "User and system CPU time of the master, seconds.", p.cpu_seconds);
  AddGauge(registry, "process_resident_memory_bytes",
           "Resident memory of the master, bytes.", p.resident_bytes);
  AddGauge(registry, "process_virtual_memory_bytes",
           "Virtual memory of the master, bytes.", p.virtual_bytes);
  AddGauge(registry, "process_start_time_seconds",
           "Start time of the master since the epoch, seconds.",
           p.start_time_seconds);
  AddGauge(registry, "process_open_fds", "Open file descriptors of the master.",
           p.open_fds);
  AddGauge(registry, "process_max_fds", "File descriptor limit of the master.",
           p.max_fds);
}

// wsgid_build_info, the workers by state and the target count.
void AddPoolMetrics(Registry& registry, const PoolSnapshot& pool) {
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
  AddGauge(registry, "wsgid_workers_desired",
           "The worker count the pool is kept at.", pool.desired);
}

// The app threads by state; the busy ones are the requests in flight.
void AddThreadMetrics(Registry& registry, const MetricsInput& in) {
  int running_threads = in.running_threads;
  // Read without a lock, busy can run ahead of running for an instant.
  int busy = std::min(in.busy_threads, running_threads);
  auto& threads = BuildGauge()
                      .Name("wsgid_worker_threads")
                      .Help("App threads of the live workers by state.")
                      .Register(registry);
  threads.Add({{"state", "idle"}}).Set(running_threads - busy);
  threads.Add({{"state", "busy"}}).Set(busy);
  AddGauge(registry, "wsgid_http_requests_in_flight",
           "Requests being served now.", busy);
}

// Workers started, and those that exited by reason (every reason, from 0).
void AddLifecycleMetrics(Registry& registry, const PoolSnapshot& pool) {
  AddCounter(registry, "wsgid_worker_spawns_total", "Workers started.",
             static_cast<double>(pool.spawns));
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
}

// Each worker's heartbeat age and memory, and each listener's accept queue.
void AddPerWorkerMetrics(Registry& registry, const MetricsInput& in) {
  auto& heartbeat =
      BuildGauge()
          .Name("wsgid_worker_heartbeat_age_seconds")
          .Help("Age of each worker's heartbeat, by scoreboard slot.")
          .Register(registry);
  auto& rss = BuildGauge()
                  .Name("wsgid_worker_resident_memory_bytes")
                  .Help("Resident memory of each worker, by scoreboard slot.")
                  .Register(registry);
  auto& shared =
      BuildGauge()
          .Name("wsgid_worker_shared_memory_bytes")
          .Help(
              "Of each worker's resident memory, what it shares with other "
              "processes (with --preload: the zygote's pages), by slot.")
          .Register(registry);
  for (const auto& w : in.workers) {
    heartbeat.Add({{"worker", std::to_string(w.id)}})
        .Set(w.heartbeat_age_seconds);
    rss.Add({{"worker", std::to_string(w.id)}})
        .Set(static_cast<double>(w.rss_bytes));
    shared.Add({{"worker", std::to_string(w.id)}})
        .Set(static_cast<double>(w.shared_bytes));
  }
  auto& queue =
      BuildGauge()
          .Name("wsgid_listen_queue_length")
          .Help("Connections waiting in each listener's accept queue (TCP).")
          .Register(registry);
  for (const auto& [listener, length] : in.listen_queues)
    queue.Add({{"listener", listener}}).Set(static_cast<double>(length));
}

// --preload (issue 16): the newest zygote's state (every state exported, 1
// for the one it is in) and memory.
void AddPreloadMetrics(Registry& registry, const MetricsInput& in) {
  auto& state = BuildGauge()
                    .Name("wsgid_preload_zygote_state")
                    .Help(
                        "The preload zygote's state (1 for the one it is "
                        "in; all 0 without --preload).")
                    .Register(registry);
  for (const ZygoteStateInfo& info : ZygoteStates())
    state.Add({{"state", std::string(info.name)}})
        .Set(in.pool->preload && in.pool->preload->state == info.name ? 1 : 0);
  AddGauge(registry, "wsgid_preload_zygote_resident_memory_bytes",
           "Resident memory of the preload zygote, bytes.",
           static_cast<double>(in.zygote_rss_bytes));
  AddGauge(registry, "wsgid_preload_zygote_pss_bytes",
           "Proportional set size of the preload zygote, bytes.",
           static_cast<double>(in.zygote_pss_bytes));
}

// Responses by method and code, and their durations.
void AddResponseMetrics(Registry& registry, const RequestTotals& totals) {
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
}

// Bytes sent, app exceptions and connections accepted.
void AddTrafficMetrics(Registry& registry, const RequestTotals& totals) {
  AddCounter(registry, "wsgid_http_response_body_bytes_total",
             "Response body bytes sent.",
             static_cast<double>(totals.bytes_out));
  AddCounter(registry, "wsgid_app_exceptions_total",
             "Requests the application failed with an exception.",
             static_cast<double>(totals.app_exceptions));
  AddCounter(registry, "wsgid_connections_accepted_total",
             "Connections accepted by the workers.",
             static_cast<double>(totals.accepts));
}

// Error-log records by level, workers' and master's: Gunicorn's statsd
// gunicorn.log.* counters.
void AddLogMetrics(Registry& registry, const RequestTotals& totals,
                   const PoolSnapshot& pool) {
  auto& records = BuildCounter()
                      .Name("wsgid_log_records_total")
                      .Help(
                          "Error-log records at warning and above, by level "
                          "(an error logged with its exception counts as "
                          "exception only).")
                      .Register(registry);
  for (int k = 0; k < kLogCounterCount; ++k)
    records.Add({{"level", LogCounterName(static_cast<LogCounter>(k))}})
        .Increment(static_cast<double>(totals.log_records[k] +
                                       pool.master_log_records[k]));
}

// Reloads by result, and the scaler's metrics, which exist whether or not
// autoscaling is on.
void AddReloadAndScalerMetrics(Registry& registry, const MetricsInput& in) {
  const PoolSnapshot& pool = *in.pool;
  auto& reloads = BuildCounter()
                      .Name("wsgid_config_reloads_total")
                      .Help("Reloads, by result.")
                      .Register(registry);
  reloads.Add({{"result", "ok"}})
      .Increment(static_cast<double>(pool.reloads_ok));
  reloads.Add({{"result", "failed"}})
      .Increment(static_cast<double>(pool.reloads_failed));
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
  AddGauge(registry, "wsgid_autoscale_enabled",
           "1 while the scaler tunes the pool.", in.autoscale_enabled ? 1 : 0);
}

}  // namespace

std::string RenderMetrics(const MetricsInput& in) {
  Registry registry;
  AddPoolMetrics(registry, *in.pool);
  AddThreadMetrics(registry, in);
  AddLifecycleMetrics(registry, *in.pool);
  AddPerWorkerMetrics(registry, in);
  AddPreloadMetrics(registry, in);
  AddResponseMetrics(registry, *in.totals);
  AddTrafficMetrics(registry, *in.totals);
  AddLogMetrics(registry, *in.totals, *in.pool);
  AddReloadAndScalerMetrics(registry, in);
  AddProcessMetrics(registry);
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace wsgid
