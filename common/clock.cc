#include "common/clock.h"

#include <time.h>

namespace wsgid {

int64_t MonotonicNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

}  // namespace wsgid
