#include "daemon/connection_balance.h"

#include <algorithm>

namespace wsgid {

uint32_t ConnectionQuota(uint64_t total_connections, int ready_workers) {
  if (ready_workers < 2 || total_connections == 0) return 0;
  uint64_t workers = static_cast<uint64_t>(ready_workers);
  uint64_t share = (total_connections + workers - 1) / workers;
  uint64_t quota = share + share / 8;
  return static_cast<uint32_t>(std::min<uint64_t>(quota, UINT32_MAX));
}

}  // namespace wsgid
