// What the machine, or the cgroup wsgid runs in, allows: cores and memory.
// The master's business only (default worker count, the scaler's budget).
// Read from the cgroup (v2 and v1) when there is one, so a container limited to
// two CPUs sizes itself for two, not for the host's cores.
#pragma once

#include <cstdint>

namespace wsgid {

// CPUs this process may use: the affinity mask, lowered to the cgroup's CPU
// quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, rounded up).
// At least 1.
int AvailableCores();

// The cgroup's memory limit in bytes (v2 memory.max, v1
// memory.limit_in_bytes); 0 when there is none.
int64_t CgroupMemoryLimit();

}  // namespace wsgid
