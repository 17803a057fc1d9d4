// The logs of a process the master starts from wsgid-worker (a worker, the
// preload zygote, the hook helper), set up the same way in each: the error log
// with the configured level and format, its records marked with the kind of
// process, and the app's prints (descriptors 1 and 2) captured into it.
//
// REQUIRES: called while the process is single-threaded (the JSON stdio relay
// forks).
#pragma once

#include "common/config.h"
#include "common/log_record.h"
#include "common/status.h"

namespace wsgid {

// Opens config.error_logfile at config.log_level, in config.log_format, with
// records saying `kind`.
Status OpenProcessErrorLog(const Config& config, ProcessKind kind);

// Points descriptors 1 and 2 into the error log: as records through a stdio
// relay in JSON, the log itself in text (both follow it on USR1); left where
// the master's go with -R (--enable-stdio-inheritance) unless
// --capture-output, whose capture wins as in Gunicorn.
Status CaptureStdioIntoErrorLog(const Config& config);

}  // namespace wsgid
