#include "daemon/ops_server.h"

#include <httplib.h>

#include "common/clock.h"
#include "daemon/http_util.h"

namespace wsgid {
namespace {

constexpr int64_t kLivenessWindowNs = 5'000'000'000;


}  // namespace

OpsServer::OpsServer(ControlBackend* backend, MetricsGatherer gather)
    : backend_(backend),
      gather_(std::move(gather)),
      server_(std::make_unique<httplib::Server>()) {
  ConfigureSmallServer(server_.get(), 1024);
  server_->Get(
      "/livez", [this](const httplib::Request&, httplib::Response& res) {
        bool turning =
            MonotonicNs() - backend_->Snapshot().loop_turned_ns < kLivenessWindowNs;
        res.status = turning ? 200 : 503;
        res.set_content(turning ? "ok\n" : "supervisor loop stalled\n",
                        "text/plain");
      });
  server_->Get("/readyz",
               [this](const httplib::Request&, httplib::Response& res) {
                 PoolSnapshot pool = backend_->Snapshot();
                 bool is_ready =
                     pool.CountInState(WorkerState::kReady) > 0 &&
                     !pool.stopping;
                 res.status = is_ready ? 200 : 503;
                 res.set_content(is_ready        ? "ready\n"
                                 : pool.stopping ? "stopping\n"
                                                 : "no ready worker\n",
                                 "text/plain");
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
    res.status = known ? 405 : 404;
    res.set_content(known ? "read-only\n" : "not found\n", "text/plain");
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
