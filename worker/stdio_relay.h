// The app's stdout and stderr (descriptors 1 and 2) as error-log records.
//
// Text format (RedirectStdioToErrorLog): 1 and 2 become the error log itself
// (dup2), and a reopener moves them with it on ReopenLogs().
//
// JSON format (StartStdioRelay): 1 and 2 become pipes read by a small relay
// process forked from the worker, which wraps each line (a traceback or a
// faulthandler dump whole, record_grouper.h) into a JSON record carrying the
// worker's pid and id. A process and not a thread, because the stacks
// faulthandler prints as the timeout ladder's SIGABRT kills the worker would
// die with a thread in it; the relay reads them to EOF after the worker is
// gone, then exits. ReopenLogs() in the worker signals the relay (SIGUSR1),
// which reopens its error log. The relay keeps no other descriptor (its fd 0 is
// /dev/null).
//
// The workers, the preload zygote and the master's hook helper each start
// one. A process that forks workers from itself (the preload zygote) clears
// its reopeners (ClearLogReopeners) and calls StartStdioRelay again in each
// child, so each worker has its own relay and signals only that one.
// REQUIRES: called while the process is single-threaded (fork).
#pragma once

#include "common/status.h"

namespace wsgid {

// The worker's stdout as it was before either call (the master's stdout):
// where "--access-logfile -" writes.
int InheritedStdoutFd();

// Points 1 and 2 at the error log, now and after every ReopenLogs().
Status RedirectStdioToErrorLog();

// Starts the relay and points 1 and 2 at it.
Status StartStdioRelay();

}  // namespace wsgid
