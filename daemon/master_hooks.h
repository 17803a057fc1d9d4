// MasterHooks: Gunicorn's master-side server hooks, as events at the
// supervisor's moments. The supervisor (and WorkerProcesses, PoolCommands)
// call it where Gunicorn's arbiter calls the hook; it turns each moment into
// one JSON event with Gunicorn's arguments and hands it to a HookChannel,
// whose helper process calls the hook from the gunicorn.conf.py:
//
//   moment                        hook (arguments)
//   Starting                      nworkers_changed(server, N, None), then
//                                 on_starting(server)
//   Ready                         when_ready(server)
//   Reloaded                      on_reload(server), in a helper restarted
//                                 with the new configuration
//   PreFork                       pre_fork(server, worker): worker.pid is
//                                 "[booting]", as in Gunicorn
//   ChildExited                   child_exit(server, worker): every worker
//                                 that leaves (reload, scale-down, timeout,
//                                 crash); worker.exitcode: code or -signal
//   DesiredIs (a new count)       nworkers_changed(server, new, old)
//   PreExec (USR2)                pre_exec(server), awaited until a
//                                 deadline before the new master starts
//   Exiting                       on_exit(server), awaited until a deadline
//
// An event is {"hook": name, "num_workers": N[, "worker": {"pid", "age",
// "exitcode"}][, "new_value", "old_value"]}. Without a hooks file everything
// is a no-op but the worker age count. Loop thread only; `channel` outlives
// it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/config.h"
#include "daemon/hook_channel.h"

namespace wsgid {

class MasterHooks {
 public:
  explicit MasterHooks(HookChannel* channel) : channel_(channel) {}

  // Whether the configuration names a hooks file (events are sent).
  bool enabled() const { return enabled_; }

  // Before the listeners open: starts the helper for `config`, whose pool
  // starts `workers` workers.
  void Starting(const Config& config, int workers, int64_t now_ns);
  void Ready();
  // A reload switched to `config` (before its workers start).
  void Reloaded(const Config& config, int64_t now_ns);
  // Before spawning a worker; returns its age (Gunicorn's spawn counter,
  // counted with or without hooks).
  int PreFork();
  // The worker of age `age` was spawned as `pid`.
  void Forked(pid_t pid, int age);
  // A reaped child: child_exit when it was one of our workers.
  void ChildExited(pid_t pid, int wait_status);
  // The pool's desired count, each loop turn: nworkers_changed on a change.
  void DesiredIs(int workers);
  // pre_exec, then waits for the helper to have run it (and every hook sent
  // before it) until `deadline_ns`: Gunicorn calls it before the new master
  // is exec'd, so the caller starts the new master after this returns.
  void PreExec(int64_t deadline_ns);
  // on_exit, then waits for the helper to have run every hook sent, until
  // `deadline_ns`.
  void Exiting(int64_t deadline_ns);

  // The helper's error-log records (HookChannel::LogRecords).
  uint64_t LogRecords(LogCounter counter) const {
    return channel_->LogRecords(counter);
  }

  // Loop turn and reaping, passed to the channel.
  void Pump(int64_t now_ns);
  bool OnReaped(pid_t pid, int wait_status, int64_t now_ns);

 private:
  // Sends `hook` with the extra JSON members `extra` (",\"k\":v..." or "").
  void Send(const char* hook, const std::string& extra = "");

  HookChannel* channel_;
  bool enabled_ = false;
  int workers_ = 0;
  int age_ = 0;
  std::map<pid_t, int> ages_;  // live workers' ages, by pid
};

}  // namespace wsgid
