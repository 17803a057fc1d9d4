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

class OpsServer {
 public:
  // `gather` fills the per-worker and listener parts of the metrics input.
  using MetricsGatherer =
      std::function<MetricsInput(const PoolSnapshot&, const RequestTotals&)>;

  OpsServer(ControlBackend* backend, MetricsGatherer gather);
  ~OpsServer();

  // Binds HOST:PORT and starts serving on a thread of its own.
  Status Start(const std::string& bind);
  void Stop();

 private:
  ControlBackend* backend_;
  MetricsGatherer gather_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace wsgid
