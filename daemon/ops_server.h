// OpsServer: the unauthenticated, read-only ops port (--ops-bind, default
// 127.0.0.1:9180) answered by the master, never by the workers, so it answers
// while every worker is busy or frozen: /livez (the supervisor loop turned
// within the last few seconds), /readyz (a ready worker and no stop under way;
// else 503), /metrics (Prometheus text format 0.0.4).
//
// Its own small thread pool, short keep-alive and tiny request limits keep slow
// or idle clients from starving it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "daemon/control_backend.h"
#include "daemon/metrics.h"

namespace httplib {
class Server;
}

namespace wsgid {

// What a probe answers: HTTP status and plain text.
struct ProbeAnswer {
  int status;
  const char* text;
};

// /livez: 200 while the supervisor loop turned within the last 5 s of
// `now_ns` (MonotonicNs()), else 503.
ProbeAnswer Liveness(const PoolSnapshot& pool, int64_t now_ns);

// /readyz: 200 with a ready worker and no stop under way, else 503 saying why.
ProbeAnswer Readiness(const PoolSnapshot& pool);

// Constructed and started by the supervisor's thread; requests are answered
// on the server's own threads, which only read the backend (thread-safe).
class OpsServer {
 public:
  // `gather` fills the per-worker and listener parts of the metrics input; it
  // is called on the server's threads. `backend` is not owned and must outlive
  // this object.
  using MetricsGatherer =
      std::function<MetricsInput(const PoolSnapshot&, const RequestTotals&)>;

  OpsServer(ControlBackend* backend, MetricsGatherer gather);
  ~OpsServer();

  // Binds HOST:PORT and starts serving on a thread of its own.
  Status Start(const std::string& bind);
  // Stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  ControlBackend* backend_;
  MetricsGatherer gather_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace wsgid
