// The master's signals: which it takes, what each one asks of the supervisor,
// and the signalfd they arrive through.
//
// Gunicorn-compatible: TERM graceful stop, INT/QUIT fast stop, HUP reload,
// TTIN/TTOU one worker more/less, USR1 reopen the logs, USR2 start a new master
// beside this one; CHLD only wakes the loop to reap. The master blocks them in
// every thread and reads them from a signalfd, so no handler ever runs; a
// child it starts must get them back unblocked and at their defaults (see
// process_spawner.h).
#pragma once

#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

// What the supervisor loop does for a signal.
enum class SignalAction {
  kNone,  // CHLD (the loop reaps every turn anyway) and anything else
  kGracefulStop,
  kFastStop,
  kReload,
  kAddWorker,
  kRemoveWorker,
  kReopenLogs,
  kReExec,
};

// The signals the master handles, in one list for the mask and the children.
const std::vector<int>& MasterSignals();

// The action for `signo`.
SignalAction ActionForSignal(int signo);

// Blocks MasterSignals() in the calling thread (and so in every thread it
// starts afterwards) and opens a non-blocking signalfd for them.
// REQUIRES: called before the process starts any other thread.
StatusOr<UniqueFd> OpenMasterSignalFd();

// The signals pending on `signal_fd`, in the order read; empty when none.
std::vector<int> ReadSignals(int signal_fd);

}  // namespace wsgid
