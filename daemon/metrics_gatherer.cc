#include "daemon/metrics_gatherer.h"

namespace wsgid {

MetricsInput GatherMetricsInput(const PoolSnapshot& pool,
                                const RequestTotals& totals, WorkerSlots* slots,
                                const ListenerSet& listeners, int64_t now_ns,
                                ResidentReader resident, ResidentReader shared,
                                ResidentReader pss) {
  MetricsInput in;
  in.pool = &pool;
  in.totals = &totals;
  in.autoscale_enabled = pool.autoscale;
  for (const auto& w : pool.workers) {
    const WorkerSlot* slot = slots->Find(w.id);
    if (slot == nullptr) continue;
    in.running_threads += WorkerThreads(*slot);
    in.busy_threads += BusyThreads(*slot);
    double age = w.state == WorkerState::kStarting
                     ? 0  // importing the app: no heartbeat yet
                     : HeartbeatAgeSeconds(*slot, now_ns);
    in.workers.push_back(
        {w.id, age, resident(w.pid), shared ? shared(w.pid) : 0});
  }
  if (pool.preload && pool.preload->pid > 0) {
    in.zygote_rss_bytes = resident(pool.preload->pid);
    in.zygote_pss_bytes = pss ? pss(pool.preload->pid) : 0;
  }
  in.listen_queues = listeners.QueueLengths();
  return in;
}

}  // namespace wsgid
