// RenderMetrics from a synthetic MetricsInput: every family, help line and
// label value the dashboards and alerts read is there, with the input's values,
// in the order the exposition has always had. promtool's checks of the format
// itself run in the integration tier (test_deploy_prometheus.py).
#include "daemon/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wsgid {
namespace {

// A pool of three workers (one in each state) with counters that are all
// distinct, so a value in the wrong series shows.
struct SyntheticMetrics {
  PoolSnapshot pool;
  RequestTotals totals;
  MetricsInput input;

  SyntheticMetrics() {
    pool.desired = 4;
    pool.workers = {{1, 101, 1, WorkerState::kReady},
                    {2, 102, 1, WorkerState::kReady},
                    {3, 103, 1, WorkerState::kStarting},
                    {4, 104, 0, WorkerState::kDraining}};
    pool.spawns = 7;
    pool.exits = {{"crash", 2}, {"reload", 3}};
    pool.reloads_ok = 5;
    pool.reloads_failed = 1;
    pool.decisions = {{"up/workers", 6}, {"down/threads", 2}};
    totals.responses[0][0] = 11;  // GET, the first listed code
    totals.latency[0] = 3;
    totals.latency[2] = 4;
    totals.latency_sum_us = 2'500'000;
    totals.bytes_out = 12345;
    totals.app_exceptions = 9;
    totals.accepts = 77;
    input.pool = &pool;
    input.totals = &totals;
    input.busy_threads = 3;
    input.running_threads = 8;
    input.workers = {{1, 0.5, 1 << 20}, {2, 1.25, 2 << 20}};
    input.listen_queues = {{"127.0.0.1:8000", 13}};
    input.autoscale_enabled = true;
  }
};

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(MetricsTest, WorkerStatesPartitionTheLiveWorkers) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(Has(text, "# HELP wsgid_workers Worker processes by state.\n"));
  EXPECT_TRUE(Has(text, "# TYPE wsgid_workers gauge\n"));
  EXPECT_TRUE(Has(text, "wsgid_workers{state=\"starting\"} 1\n"));
  EXPECT_TRUE(Has(text, "wsgid_workers{state=\"ready\"} 2\n"));
  EXPECT_TRUE(Has(text, "wsgid_workers{state=\"draining\"} 1\n"));
  EXPECT_TRUE(Has(text, "wsgid_workers_desired 4\n"));
  EXPECT_TRUE(Has(text, "wsgid_build_info{version=\"" WSGID_VERSION "\"} 1\n"));
}

TEST(MetricsTest, ThreadsSplitIntoIdleAndBusy) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(Has(text, "wsgid_worker_threads{state=\"idle\"} 5\n"));
  EXPECT_TRUE(Has(text, "wsgid_worker_threads{state=\"busy\"} 3\n"));
  EXPECT_TRUE(Has(text, "wsgid_http_requests_in_flight 3\n"));
}

TEST(MetricsTest, BusyNeverExceedsRunningThreads) {
  // The scoreboard is read without a lock: a count of busy threads can run
  // ahead of the running ones for an instant, and idle must not go negative.
  SyntheticMetrics m;
  m.input.busy_threads = 12;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(Has(text, "wsgid_worker_threads{state=\"idle\"} 0\n"));
  EXPECT_TRUE(Has(text, "wsgid_worker_threads{state=\"busy\"} 8\n"));
}

TEST(MetricsTest, EveryExitReasonIsExportedFromTheStart) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(Has(text, "wsgid_worker_spawns_total 7\n"));
  EXPECT_TRUE(Has(text, "wsgid_worker_exits_total{reason=\"crash\"} 2\n"));
  EXPECT_TRUE(Has(text, "wsgid_worker_exits_total{reason=\"reload\"} 3\n"));
  for (const char* reason : {"exit", "heartbeat_timeout", "request_timeout",
                             "max_requests", "scale_down", "boot_failure"})
    EXPECT_TRUE(Has(text, std::string("wsgid_worker_exits_total{reason=\"") +
                              reason + "\"} 0\n"))
        << reason;
}

TEST(MetricsTest, PerWorkerGaugesAreLabelledBySlot) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(
      Has(text, "wsgid_worker_heartbeat_age_seconds{worker=\"1\"} 0.5\n"));
  EXPECT_TRUE(
      Has(text, "wsgid_worker_heartbeat_age_seconds{worker=\"2\"} 1.25\n"));
  EXPECT_TRUE(
      Has(text, "wsgid_worker_resident_memory_bytes{worker=\"2\"} 2097152\n"));
  EXPECT_TRUE(
      Has(text, "wsgid_listen_queue_length{listener=\"127.0.0.1:8000\"} 13\n"));
}

TEST(MetricsTest, RequestCountersCoverEveryMethodAndCode) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  std::string first = std::string("wsgid_http_requests_total{code=\"") +
                      CodeLabel(0) + "\",method=\"GET\"} 11\n";
  EXPECT_TRUE(Has(text, first)) << first;
  std::string last = std::string("wsgid_http_requests_total{code=\"") +
                     CodeLabel(kCodeCount - 1) + "\",method=\"" +
                     kMethodLabels[kMethodCount - 1] + "\"} 0\n";
  EXPECT_TRUE(Has(text, last)) << last;
  EXPECT_TRUE(Has(text, "wsgid_http_response_body_bytes_total 12345\n"));
  EXPECT_TRUE(Has(text, "wsgid_app_exceptions_total 9\n"));
  EXPECT_TRUE(Has(text, "wsgid_connections_accepted_total 77\n"));
}

TEST(MetricsTest, LogRecordsSumTheWorkersAndTheMaster) {
  SyntheticMetrics m;
  m.totals.log_records[static_cast<int>(LogCounter::kError)] = 5;
  m.pool.master_log_records[static_cast<int>(LogCounter::kError)] = 2;
  m.pool.master_log_records[static_cast<int>(LogCounter::kCritical)] = 1;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(Has(text, "wsgid_log_records_total{level=\"error\"} 7\n"));
  EXPECT_TRUE(Has(text, "wsgid_log_records_total{level=\"critical\"} 1\n"));
  EXPECT_TRUE(Has(text, "wsgid_log_records_total{level=\"warning\"} 0\n"));
  EXPECT_TRUE(Has(text, "wsgid_log_records_total{level=\"exception\"} 0\n"));
}

TEST(MetricsTest, DurationHistogramIsCumulative) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(
      Has(text, "# TYPE wsgid_http_request_duration_seconds histogram"));
  EXPECT_TRUE(Has(text, "wsgid_http_request_duration_seconds_count 7\n"));
  EXPECT_TRUE(Has(text, "wsgid_http_request_duration_seconds_sum 2.5\n"));
  EXPECT_TRUE(
      Has(text, "wsgid_http_request_duration_seconds_bucket{le=\"+Inf\"} 7\n"));
}

TEST(MetricsTest, ReloadsAndScalerDecisionsExistAtZero) {
  SyntheticMetrics m;
  m.input.autoscale_enabled = false;
  std::string text = RenderMetrics(m.input);
  EXPECT_TRUE(Has(text, "wsgid_config_reloads_total{result=\"ok\"} 5\n"));
  EXPECT_TRUE(Has(text, "wsgid_config_reloads_total{result=\"failed\"} 1\n"));
  EXPECT_TRUE(Has(text,
                  "wsgid_autoscale_decisions_total{direction=\"up\",kind="
                  "\"workers\"} 6\n"));
  EXPECT_TRUE(Has(
      text,
      "wsgid_autoscale_decisions_total{direction=\"down\",kind=\"threads\"} "
      "2\n"));
  EXPECT_TRUE(Has(text,
                  "wsgid_autoscale_decisions_total{direction=\"up\",kind="
                  "\"threads\"} 0\n"));
  EXPECT_TRUE(Has(text, "wsgid_autoscale_enabled 0\n"));
}

TEST(MetricsTest, TheMastersProcessMetricsArePresent) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_start_time_seconds",
        "process_open_fds", "process_max_fds"})
    EXPECT_TRUE(Has(text, std::string("\n") + name + " ")) << name;
}

TEST(MetricsTest, FamiliesComeInTheirEstablishedOrder) {
  SyntheticMetrics m;
  std::string text = RenderMetrics(m.input);
  const std::vector<std::string> order = {
      "wsgid_worker_spawns_total",
      "wsgid_worker_exits_total",
      "wsgid_http_requests_total",
      "wsgid_http_response_body_bytes_total",
      "wsgid_app_exceptions_total",
      "wsgid_connections_accepted_total",
      "wsgid_log_records_total",
      "wsgid_config_reloads_total",
      "wsgid_autoscale_decisions_total",
      "process_cpu_seconds_total",
      "wsgid_build_info",
      "wsgid_workers",
      "wsgid_workers_desired",
      "wsgid_worker_threads",
      "wsgid_http_requests_in_flight",
      "wsgid_worker_heartbeat_age_seconds",
      "wsgid_worker_resident_memory_bytes",
      "wsgid_listen_queue_length",
      "wsgid_autoscale_enabled",
      "process_resident_memory_bytes",
      "process_virtual_memory_bytes",
      "process_start_time_seconds",
      "process_open_fds",
      "process_max_fds",
      "wsgid_http_request_duration_seconds",
  };
  size_t at = 0;
  for (const std::string& name : order) {
    size_t next = text.find("# HELP " + name + " ", at);
    ASSERT_NE(next, std::string::npos) << name << " missing or out of order";
    at = next;
  }
}

}  // namespace
}  // namespace wsgid
