#include "daemon/wait_status.h"

#include <sys/wait.h>

#include <cstring>

namespace wsgid {

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("signal ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace wsgid
