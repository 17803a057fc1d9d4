#include "daemon/system_load_reader.h"

#include "daemon/pool_snapshot.h"
#include "daemon/proc_stats.h"

namespace wsgid {

WorkerReading SystemLoadReader::ReadWorker(int id, pid_t pid) {
  const WorkerSlot& slot = slots_->slot(id);
  auto relaxed = std::memory_order_relaxed;
  WorkerReading r;
  r.waiting_ns = slot.waiting_ns.load(relaxed);
  for (int t = 0; t < WorkerThreads(slot); ++t) {
    const ThreadSlot& ts = slot.thread[t];
    r.threads.push_back({ts.busy_ns.load(relaxed), ts.busy.load(relaxed) != 0,
                         ts.request_start_ns.load(relaxed)});
  }
  r.cpu_demand_by_thread = CpuDemandByThread(pid);
  r.pss_bytes = PssBytes(pid);
  r.thread_states = SampleThreadStates(pid);
  return r;
}

}  // namespace wsgid
