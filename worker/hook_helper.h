// The master's hook helper: `wsgid-worker --worker-hook-helper`, started by
// wsgid (daemon/hook_helper.h) when its gunicorn.conf.py defines hooks. It
// embeds the app's interpreter (the master never runs Python), loads the
// file's hooks and runs the master-side ones (on_starting, when_ready,
// on_reload, pre_fork, child_exit, nworkers_changed, on_exit, pre_exec) as
// their events arrive: one JSON line each on fd 0, a socket, answered "done"
// once the hook returned (a raise is logged with its traceback and answered
// all the same). It leaves when the master closes the socket.
//
// It logs as a worker does: the same error log and format (JSON records say
// "process": "hooks"), a hook's prints and stray tracebacks (descriptors 1
// and 2) in it as records (worker/stdio_relay.h), and all of them reopened on
// the master's USR1.
#pragma once

#include "common/config.h"

namespace wsgid {

// Runs the helper for `config` (every setting of the master, its hooks file
// in worker_hooks_file); returns the process's exit code.
int RunHookHelper(const Config& config);

}  // namespace wsgid
