// The timeout ladder's first rung: deciding, from what a worker reported in the
// scoreboard, whether it is frozen. A pure function of (observation, clock,
// policy), so it is unit-tested with synthetic traces and no sleeps.
//
// A worker is frozen when it can make no progress: its heartbeat (stamped by
// C++ code that never waits for the GIL) is older than the timeout, or every
// one of its app threads has been inside the same request for longer than the
// timeout (with one thread that is Gunicorn's sync semantics; it also catches
// Python code spinning with the GIL, which stops the app but not the
// heartbeat). With --request-timeout, one request running longer than that is
// enough.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/scoreboard.h"

namespace wsgid {

struct TimeoutPolicy {
  int64_t timeout_ns = 30'000'000'000;  // --timeout
  int64_t request_timeout_ns = 0;       // --request-timeout; 0: off
};

struct WorkerObservation {
  int64_t heartbeat_ns = 0;
  std::vector<ThreadActivity>
      threads;  // one per app thread the worker should run
};

struct FreezeVerdict {
  enum class Kind { kAlive, kHeartbeat, kAllThreadsStuck, kRequestTimeout };
  Kind kind = Kind::kAlive;
  std::string
      detail;  // for the log: ages, and the stuck request's method and path
  bool frozen() const { return kind != Kind::kAlive; }
};

// Judges one worker at `now_ns` (CLOCK_MONOTONIC).
FreezeVerdict JudgeWorker(const WorkerObservation& observation, int64_t now_ns,
                          const TimeoutPolicy& policy);

}  // namespace wsgid
