// The master's start modes besides serving (issue 15): --check-config's app
// import, which Gunicorn does too, and -D/--daemon's detaching.
//
// Called by main only, before the supervisor exists (no thread running).
#pragma once

#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

// Imports the app in a wsgid-worker process (`worker_path`) started with
// `config` and --worker-check-app, as a worker would: Ok, kAppLoad when the
// import failed (its traceback is in the error log), else kUnavailable.
Status CheckAppImport(const Config& config, const std::string& worker_path);

// Detaches as Gunicorn's -D does: fork (the parent exits 0), setsid, fork
// again, stdin/stdout/stderr to /dev/null. Not for systemd Type=notify (the
// main pid changes). Errors are errno Statuses.
Status Daemonize();

}  // namespace wsgid
