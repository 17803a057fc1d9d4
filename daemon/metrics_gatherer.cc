#include "daemon/metrics_gatherer.h"

#include <algorithm>

#include "common/clock.h"

namespace wsgid {

MetricsInput GatherMetricsInput(const PoolSnapshot& pool,
                                const RequestTotals& totals, WorkerSlots* slots,
                                const ListenerSet& listeners, int64_t now_ns,
                                ResidentReader resident) {
  MetricsInput in;
  in.pool = &pool;
  in.totals = &totals;
  in.autoscale_enabled = pool.autoscale;
  for (const auto& w : pool.workers) {
    const WorkerSlot* slot = slots->Find(w.id);
    if (slot == nullptr) continue;
    in.running_threads += WorkerThreads(*slot);
    in.busy_threads += BusyThreads(*slot);
    int64_t beat = slot->heartbeat_ns.load(std::memory_order_relaxed);
    double age = std::max<double>(
        0, static_cast<double>(now_ns - beat) / static_cast<double>(kNsPerSec));
    in.workers.push_back(
        {w.id, w.state == WorkerState::kStarting ? 0 : age, resident(w.pid)});
  }
  in.listen_queues = listeners.QueueLengths();
  return in;
}

}  // namespace wsgid
