// What /metrics shows beyond the snapshot and the totals, read when it is
// scraped (on the ops port's thread): each worker's heartbeat age and resident
// memory, the app threads running and busy, the listeners' accept queues.
// Thread-safe as long as its sources are (WorkerSlots::Find, ListenerSet's
// readers).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "daemon/listener_set.h"
#include "daemon/metrics.h"
#include "daemon/pool_snapshot.h"
#include "daemon/worker_slots.h"

namespace wsgid {

// Resident memory of a worker, bytes (ResidentBytes in the daemon).
using ResidentReader = int64_t (*)(pid_t pid);

// The metrics input for `pool` and `totals` (which must outlive it) at
// `now_ns`. A starting worker's heartbeat age is 0: it has not beaten yet.
// `shared` (each worker's memory shared with others) and `pss` (the preload
// zygote's) read 0 when not given.
MetricsInput GatherMetricsInput(const PoolSnapshot& pool,
                                const RequestTotals& totals, WorkerSlots* slots,
                                const ListenerSet& listeners, int64_t now_ns,
                                ResidentReader resident,
                                ResidentReader shared = nullptr,
                                ResidentReader pss = nullptr);

}  // namespace wsgid
