#include "daemon/pool_snapshot.h"

namespace wsgid {

void RequestTotals::Add(const WorkerSlot& slot) {
  auto relaxed = std::memory_order_relaxed;
  for (int m = 0; m < kMethodCount; ++m)
    for (int c = 0; c < kCodeCount; ++c)
      responses[m][c] += slot.responses[m][c].load(relaxed);
  for (int b = 0; b < kLatencyBuckets; ++b)
    latency[b] += slot.latency[b].load(relaxed);
  latency_sum_us += slot.latency_sum_us.load(relaxed);
  bytes_out += slot.bytes_out.load(relaxed);
  app_exceptions += slot.app_exceptions.load(relaxed);
  accepts += slot.accepts.load(relaxed);
  for (int k = 0; k < kLogCounterCount; ++k)
    log_records[k] += slot.log_records[k].load(relaxed);
}

void RequestTotals::Add(const RequestTotals& o) {
  for (int m = 0; m < kMethodCount; ++m)
    for (int c = 0; c < kCodeCount; ++c) responses[m][c] += o.responses[m][c];
  for (int b = 0; b < kLatencyBuckets; ++b) latency[b] += o.latency[b];
  latency_sum_us += o.latency_sum_us;
  bytes_out += o.bytes_out;
  app_exceptions += o.app_exceptions;
  accepts += o.accepts;
  for (int k = 0; k < kLogCounterCount; ++k) log_records[k] += o.log_records[k];
}

}  // namespace wsgid
