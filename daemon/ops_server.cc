#include "daemon/ops_server.h"

#include <httplib.h>

#include "common/clock.h"
#include "daemon/http_util.h"

namespace wsgid {
namespace {

// How long the supervisor loop may go without turning before /livez fails.
constexpr int64_t kLivenessWindowNs = 5 * kNsPerSec;

void Reply(httplib::Response& res, ProbeAnswer answer) {
  res.status = answer.status;
  res.set_content(answer.text, "text/plain");
}

}  // namespace

ProbeAnswer Liveness(const PoolSnapshot& pool, int64_t now_ns) {
  if (now_ns - pool.loop_turned_ns < kLivenessWindowNs) return {200, "ok\n"};
  return {503, "supervisor loop stalled\n"};
}

ProbeAnswer Readiness(const PoolSnapshot& pool) {
  if (pool.stopping) return {503, "stopping\n"};
  if (pool.CountInState(WorkerState::kReady) == 0)
    return {503, "no ready worker\n"};
  return {200, "ready\n"};
}

OpsServer::OpsServer(ControlBackend* backend, MetricsGatherer gather)
    : backend_(backend),
      gather_(std::move(gather)),
      server_(std::make_unique<httplib::Server>()) {
  ConfigureSmallServer(server_.get(), 1024);
  server_->Get("/livez",
               [this](const httplib::Request&, httplib::Response& res) {
                 Reply(res, Liveness(backend_->Snapshot(), MonotonicNs()));
               });
  server_->Get("/readyz",
               [this](const httplib::Request&, httplib::Response& res) {
                 Reply(res, Readiness(backend_->Snapshot()));
               });
  server_->Get("/metrics",
               [this](const httplib::Request&, httplib::Response& res) {
                 PoolSnapshot pool = backend_->Snapshot();
                 RequestTotals totals = backend_->Totals();
                 MetricsInput input = gather_(pool, totals);
                 res.set_content(RenderMetrics(input), kMetricsContentType);
               });
  // Read-only: anything else is 405 on a known path, 404 elsewhere.
  auto refuse = [](const httplib::Request& req, httplib::Response& res) {
    bool known =
        req.path == "/livez" || req.path == "/readyz" || req.path == "/metrics";
    Reply(res, known ? ProbeAnswer{405, "read-only\n"}
                     : ProbeAnswer{404, "not found\n"});
  };
  server_->Post(".*", refuse);
  server_->Put(".*", refuse);
  server_->Delete(".*", refuse);
  server_->Patch(".*", refuse);
}

OpsServer::~OpsServer() { Stop(); }

Status OpsServer::Start(const std::string& bind) {
  return ListenTcp(server_.get(), bind, &thread_);
}

void OpsServer::Stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace wsgid
