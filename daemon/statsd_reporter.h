// StatsdReporter: Gunicorn's statsd metrics (--statsd-host, --statsd-prefix,
// --dogstatsd-tags; issue 15), sent by the master over UDP (or a UNIX datagram
// socket) so dashboards built on Gunicorn's names keep working. Prometheus
// stays the primary interface.
//
// The workers count requests in the scoreboard; the master reads the totals
// and sends what changed since the last flush, at most `interval_ns` apart
// (1 s in production; Gunicorn sends one datagram per request, this aggregates
// per flush). Each flush, one datagram per line, Gunicorn's names and types:
//   PREFIX.gunicorn.requests:N|c|@1.0          requests finished
//   PREFIX.gunicorn.request.status.200:N|c|@1.0  per status (classes the
//                                               scoreboard does not list
//                                               individually as 4xx ...)
//   PREFIX.gunicorn.request.duration:MS|ms     mean duration, milliseconds
//   PREFIX.gunicorn.log.warning:N|c|@1.0      error-log records by level:
//   PREFIX.gunicorn.log.error ... .critical    warning, error, critical, and
//   PREFIX.gunicorn.log.exception              exception (common/log.h's
//                                              LogCounter): the workers' and
//                                              the master's, as `totals`
//                                              carries them
//   PREFIX.gunicorn.workers:N|g                live workers
// with "|#TAGS" appended when --dogstatsd-tags is given.
//
// Used by the supervisor loop's thread only. The socket is behind
// DatagramSender, so the logic is unit-tested with a fake.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/pool_snapshot.h"

namespace wsgid {

// Sends one datagram; losing it is fine (statsd is UDP).
class DatagramSender {
 public:
  virtual ~DatagramSender() = default;
  virtual void Send(const std::string& payload) = 0;
};

// A connected datagram socket to HOST:PORT (default port 8125, IPv6 as
// [ADDR]:PORT) or unix://PATH, as Gunicorn's --statsd-host takes it.
StatusOr<std::unique_ptr<DatagramSender>> OpenStatsdSender(
    const std::string& address);

class StatsdReporter {
 public:
  // `prefix` gets a '.' unless it ends in one (Gunicorn's rule); `tags` is
  // --dogstatsd-tags.
  StatsdReporter(std::unique_ptr<DatagramSender> sender,
                 const std::string& prefix, std::string tags,
                 int64_t interval_ns);

  // Flushes when `interval_ns` passed since the last flush (the first call
  // only takes the baseline: what came before it is not sent).
  void Tick(int64_t now_ns, const RequestTotals& totals, int workers);
  // Sends what changed since the last flush now (at stop).
  void Flush(int64_t now_ns, const RequestTotals& totals, int workers);

  // The lines one flush would send (for tests and Flush).
  std::vector<std::string> Lines(const RequestTotals& totals,
                                 int workers) const;

 private:
  std::unique_ptr<DatagramSender> sender_;
  std::string prefix_;
  std::string tags_;
  int64_t interval_ns_;
  int64_t last_flush_ns_ = 0;
  bool primed_ = false;
  RequestTotals last_;
};

}  // namespace wsgid
