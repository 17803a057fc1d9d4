// The embedded interpreter and the application it serves.
#pragma once

#include <Python.h>

#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

// Starts the CPython wsgid was built against (WSGID_PYTHON_EXECUTABLE, a
// build choice: Debian's python3 by default, any CPython 3.9 to 3.13, or the
// venv python whose pip built the wheel) without Python's own signal
// handlers: the worker owns signals. The interpreter takes its prefix from
// that executable's path, or, when `virtualenv` is not empty, from the
// virtualenv's python: sys.prefix, sys.path and site-packages are then the
// virtualenv's, as if its python ran the app. A virtualenv of another
// major.minor is refused (InvalidArgument) before Python starts.
// faulthandler is enabled so SIGABRT prints every thread's Python stack to
// the error log. Returns with the GIL held.
Status StartInterpreter(const std::string& virtualenv);

// The version of the libpython this process loaded, e.g. "3.12.1"; callable
// before the interpreter starts.
std::string EmbeddedPythonVersion();

// `wsgid-worker --python-version`: prints the embedded Python's version and
// the executable it starts as ("3.12.1 /usr/bin/python3.12"), for the master
// (daemon/embedded_python.h), which links no Python.
void PrintEmbeddedPython();

// Imports the app named by config.app: "module:callable", "module:factory()",
// or "module" (callable "application"), after --chdir and --pythonpath. On
// failure the Status holds the Python traceback. REQUIRES: the GIL. Returns a
// new reference.
StatusOr<PyObject*> LoadApplication(const Config& config);

// The pending Python exception as a traceback text, clearing it. REQUIRES: the
// GIL.
std::string FormatPythonError();

}  // namespace wsgid
