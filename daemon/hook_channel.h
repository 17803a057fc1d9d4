// HookChannel: how the master's hook events reach the Python helper that runs
// Gunicorn's master-side hooks (the master never runs Python). MasterHooks
// (daemon/master_hooks.h) says what to send and when; the real channel is
// HookHelper (daemon/hook_helper.h: a helper process fed over a socket), the
// unit tests' a fake.
//
// The contract every channel keeps: nothing blocks the supervisor loop but
// Drain, whose wait is bounded by its deadline; events are delivered in the
// order sent; a helper that falls behind loses events (logged), never stalls
// the loop. Loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/log.h"

namespace wsgid {

class HookChannel {
 public:
  virtual ~HookChannel() = default;
  // (Re)starts the helper for `config` (a reload restarts it, so the hooks
  // and cfg are the new file's); with no hooks file, stops it. Events queued
  // and not yet written go to the new helper.
  virtual void Configure(const Config& config, int64_t now_ns) = 0;
  // Queues one event: a JSON object on one line, without the newline. Never
  // waits; dropped with a warning when the helper is too far behind.
  virtual void Send(std::string line) = 0;
  // One loop turn: writes what the helper takes, reads its answers, and
  // restarts a helper that died, when its back-off is over.
  virtual void Pump(int64_t now_ns) = 0;
  // A reaped child; true when it was one of the channel's helpers.
  virtual bool OnReaped(pid_t pid, int wait_status, int64_t now_ns) = 0;
  // Waits until every event sent has been answered (its hook returned), or
  // until `deadline_ns`; true when all were.
  virtual bool Drain(int64_t deadline_ns) = 0;
  // The error-log records the helpers logged (server.log in a hook, a hook
  // that raised), by LogCounter, summed over every helper this channel ran:
  // it never goes down when one is replaced.
  virtual uint64_t LogRecords(LogCounter counter) const {
    (void)counter;
    return 0;
  }
};

}  // namespace wsgid
