// The one clock: CLOCK_MONOTONIC in nanoseconds, as every timestamp in the
// scoreboard and every event the pool and the scaler take carries it. Logic
// that decides on time takes `now_ns` as an argument (so unit tests pass a fake
// one); only the loops that drive it read the clock.
#pragma once

#include <cstdint>

namespace wsgid {

inline constexpr int64_t kNsPerSec = 1'000'000'000;

// CLOCK_MONOTONIC now, nanoseconds. Async-signal-safe.
int64_t MonotonicNs();

// Seconds (a setting) as nanoseconds.
inline int64_t SecondsToNs(double seconds) {
  return static_cast<int64_t>(seconds * 1e9);
}

}  // namespace wsgid
