// Connection balance: how many open connections a worker may hold before it
// closes keep-alive connections after their response.
//
// Keep-alive clients stay on the worker that accepted them. A worker the pool
// adds later (the scaler, `wsgictl scale`, TTIN) would get none of their
// traffic, and a worker that took more than its share of a burst keeps it. A
// worker above its quota ends the surplus with "Connection: close" on a
// response: never mid-request and never on an idle connection, where the close
// could cross a request in flight. The clients reconnect, and the kernel offers
// the new connections to the workers with a free thread.
#pragma once

#include <cstdint>
#include <vector>

namespace wsgid {

// The quota for each of `ready_workers` workers holding `total_connections`
// between them: their even share (rounded up) plus an eighth of it, so a
// large pool that is nearly even does not churn connections. A small one is
// held to the exact share: 2 clients on 2 workers sit one on each.
// 0 (no limit) with fewer than two workers or no connections.
uint32_t ConnectionQuota(uint64_t total_connections, int ready_workers);

struct WorkerSlot;

// One worker as the balance sees it: its scoreboard slot and whether it
// serves (ready).
struct BalancedWorker {
  WorkerSlot* slot;
  bool ready;
};

// Hands each ready worker the ConnectionQuota for the connections the ready
// workers hold between them (each count bounded: the scoreboard is the
// worker's word only), and the others none (0). The supervisor loop calls it
// every turn, with or without autoscaling: a scale-up or TTIN needs it as
// much.
void ApplyConnectionQuotas(const std::vector<BalancedWorker>& workers);

}  // namespace wsgid
