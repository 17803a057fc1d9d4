#include "daemon/connection_balance.h"

#include <algorithm>

#include "common/scoreboard.h"

namespace wsgid {

uint32_t ConnectionQuota(uint64_t total_connections, int ready_workers) {
  if (ready_workers < 2 || total_connections == 0) return 0;
  uint64_t workers = static_cast<uint64_t>(ready_workers);
  uint64_t share = (total_connections + workers - 1) / workers;
  uint64_t quota = share + share / 8;
  return static_cast<uint32_t>(std::min<uint64_t>(quota, UINT32_MAX));
}

void ApplyConnectionQuotas(const std::vector<BalancedWorker>& workers) {
  constexpr uint32_t kMostConnections = 1u << 24;
  uint64_t total = 0;
  int ready = 0;
  for (const BalancedWorker& w : workers) {
    if (!w.ready) continue;
    ++ready;
    total += std::min<uint32_t>(
        w.slot->connections.load(std::memory_order_relaxed), kMostConnections);
  }
  uint32_t quota = ConnectionQuota(total, ready);
  for (const BalancedWorker& w : workers)
    w.slot->connection_quota.store(w.ready ? quota : 0,
                                   std::memory_order_relaxed);
}

}  // namespace wsgid
