#include "daemon/host_limits.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

namespace wsgid {

int AvailableCores() {
  cpu_set_t set;
  int cores =
      ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  double quota = -1, period = -1;
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string max;
  if (v2 >> max >> period && max != "max") quota = std::stod(max);
  if (quota < 0) {
    std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
        p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (!(q >> quota && p >> period)) quota = -1;
  }
  if (quota > 0 && period > 0)
    cores = std::min(cores, static_cast<int>(std::ceil(quota / period)));
  return std::max(1, cores);
}

int64_t CgroupMemoryLimit() {
  for (const char* path : {"/sys/fs/cgroup/memory.max",
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream f(path);
    std::string value;
    if (f >> value && value != "max") {
      double bytes = std::stod(value);
      // v1 says "no limit" with a huge number (LONG_MAX rounded to pages).
      if (bytes > 0 && bytes < 1e18) return static_cast<int64_t>(bytes);
    }
  }
  return 0;
}

}  // namespace wsgid
