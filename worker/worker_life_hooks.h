// WorkerLifeHooks: what the server's main loop tells about the worker's own
// life, for Gunicorn's worker_int, worker_abort and worker_exit hooks
// (worker/server_hooks.h implements it over Python; the HTTP engine stays
// Python-free). And the SIGABRT catcher that lets worker_abort run.
//
// The timeout ladder sends a frozen worker SIGABRT: faulthandler dumps every
// Python thread's stack, then re-raises it to the handler that was installed
// before it. Without hooks that is the default action and the worker dies at
// once. With worker_abort or worker_exit defined, InstallAbortCatcher puts a
// handler there that only records the signal; the main loop sees it within a
// tick, runs the hooks and exits 1, and the master's SIGKILL after
// --abort-grace bounds how long they may take.
//
// Threading: the hooks are called from the main thread (the one running
// Server::RunMainLoop); AbortSignalled() from any thread.
#pragma once

namespace wsgid {

class WorkerLifeHooks {
 public:
  virtual ~WorkerLifeHooks() = default;
  // SIGINT or SIGQUIT (a fast stop): before the worker stops.
  virtual void WorkerInt() = 0;
  // SIGABRT from the timeout ladder, after the stacks were dumped.
  virtual void WorkerAbort() = 0;
  // The worker leaves by itself (drain over, fast stop, abort, master gone).
  virtual void WorkerExit() = 0;
};

// Records SIGABRT instead of dying of it. REQUIRES: faulthandler disabled
// (enabled again afterwards, it dumps the stacks, then chains to this).
void InstallAbortCatcher();
// Whether a SIGABRT was recorded.
bool AbortSignalled();

}  // namespace wsgid
