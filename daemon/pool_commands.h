// PoolCommands: what a change asked of the running daemon does, applied on the
// supervisor loop's thread: the control API's commands (scale, threads,
// autoscale, reload, restart or kill a worker, stop), the signals that mean the
// same (HUP reload), and the scaler's decisions.
//
// It changes the pool, the running configuration (the thread count; a reload
// replaces it), the workers' thread target in the scoreboard and the
// autoscaler; a stop is handed back to the loop, which owns the one stop
// path. Loop thread only; owns none of what it is given, which must outlive
// it.
#pragma once

#include <cstdint>
#include <functional>

#include "common/config.h"
#include "common/status.h"
#include "daemon/autoscaler.h"
#include "daemon/config_reload.h"
#include "daemon/control_backend.h"
#include "daemon/listener_set.h"
#include "daemon/master_hooks.h"
#include "daemon/scaler.h"
#include "daemon/worker_pool.h"
#include "daemon/worker_slots.h"

namespace wsgid {

class PoolCommands {
 public:
  // Starts a stop (graceful or fast); the loop's BeginStop.
  using StopFn = std::function<void(bool graceful)>;

  struct Parts {
    Config* config;
    WorkerPool* pool;
    WorkerSlots* slots;
    Autoscaler* autoscaler;
    ConfigReload* reload;
    ListenerSet* listeners;
    StopFn stop;
    MasterHooks* hooks = nullptr;  // on_reload (null: none)
  };

  explicit PoolCommands(Parts parts) : p_(std::move(parts)) {}

  // Applies `command` at `now_ns`; the answer for the control API.
  CommandResult Apply(const Command& command, int64_t now_ns);
  // A scaler decision: the thread target and the pool's desired count.
  void Apply(const ScalerDecision& decision);
  // Every live worker's thread target, and the one new workers start with.
  void SetThreads(int threads);

 private:
  CommandResult Threads(int threads);
  CommandResult Reload(int64_t now_ns);
  CommandResult ToWorker(const Command& command);
  Status SwitchConfig(int64_t now_ns);

  Parts p_;
};

}  // namespace wsgid
