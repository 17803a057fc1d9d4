// SystemLoadReader: the LoadSampler's readings on the real system: the
// workers' scoreboard slots (bounded: the worker's word only) and /proc
// (proc_stats.h), and the listeners' accept queues. Loop thread only; does not
// own what it reads.
#pragma once

#include "daemon/listener_set.h"
#include "daemon/load_sampler.h"
#include "daemon/worker_slots.h"

namespace wsgid {

class SystemLoadReader : public LoadReader {
 public:
  SystemLoadReader(WorkerSlots* slots, const ListenerSet* listeners)
      : slots_(slots), listeners_(listeners) {}

  WorkerReading ReadWorker(int id, pid_t pid) override;
  int64_t ListenQueue() override { return listeners_->TotalQueueLength(); }

 private:
  WorkerSlots* slots_;
  const ListenerSet* listeners_;
};

}  // namespace wsgid
