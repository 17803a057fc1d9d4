#include "worker/hook_helper.h"

#include <pybind11/stl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "worker/process_logs.h"
#include "worker/python_app.h"
#include "worker/server_hooks.h"

namespace py = pybind11;

namespace wsgid {
namespace {

// What the helper needs of the process before Python: only fd 0 (the event
// socket) and its logs, the app's environment and directory.
Status PrepareHelperProcess(const Config& config) {
  ::close_range(3, ~0u, 0);  // the master's sockets are not all close-on-exec
  // The error log as a worker has it, with the hooks' prints and stray
  // tracebacks in it (in JSON through a stdio relay of the helper's own).
  if (Status s = OpenProcessErrorLog(config, ProcessKind::kHooks); !s.ok())
    return s;
  if (Status s = CaptureStdioIntoErrorLog(config); !s.ok()) return s;
  for (const auto& [name, value] : config.env)
    ::setenv(name.c_str(), value.c_str(), 1);
  if (!config.chdir.empty() && ::chdir(config.chdir.c_str()) != 0)
    return Status::Unavailable("cannot chdir to " + config.chdir + ": " +
                               std::strerror(errno));
  return Status::Ok();
}

}  // namespace

int RunHookHelper(const Config& config) {
  if (Status s = PrepareHelperProcess(config); !s.ok()) {
    Log(LogLevel::kError) << "hook helper: " << s.message();
    return 1;
  }
  if (Status s = StartInterpreter(config.virtualenv); !s.ok()) {
    Log(LogLevel::kError) << "hook helper: " << s.message();
    return 1;
  }
  try {
    py::module_ module = HooksModule();
    module.attr("run_helper")(0, config.worker_hooks_file,
                              py::cast(config.pythonpath), HookSettings(config),
                              ::getppid());
  } catch (py::error_already_set& e) {
    e.restore();
    Log(LogLevel::kError) << "hook helper: " << FormatPythonError();
    return 1;
  } catch (const std::exception& e) {
    Log(LogLevel::kError) << "hook helper: " << e.what();
    return 1;
  }
  return 0;
}

}  // namespace wsgid
