// How a reaped child ended, as words for the log ("exit code 3", "signal
// Killed"). Shared by the worker pool and the hook helper, which both log the
// end of their children. Pure; safe from any thread.
#pragma once

#include <string>

namespace wsgid {

// `status` as waitpid(2) filled it.
std::string DescribeWaitStatus(int status);

}  // namespace wsgid
