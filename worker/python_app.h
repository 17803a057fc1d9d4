// The embedded interpreter and the application it serves.
#pragma once

#include <Python.h>

#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

// Starts Debian's CPython (the interpreter wsgid was built against) without
// Python's own signal handlers: the worker owns signals. faulthandler is
// enabled so SIGABRT prints every thread's Python stack to the error log.
// Returns with the GIL held.
Status StartInterpreter();

// Imports the app named by config.app: "module:callable", "module:factory()",
// or "module" (callable "application"), after --chdir and --pythonpath. On
// failure the Status holds the Python traceback. REQUIRES: the GIL. Returns a
// new reference.
StatusOr<PyObject*> LoadApplication(const Config& config);

// The pending Python exception as a traceback text, clearing it. REQUIRES: the
// GIL.
std::string FormatPythonError();

}  // namespace wsgid
