#include "worker/python_app.h"

#include <pybind11/embed.h>

#include <cstdio>

#include "common/log.h"
#include "common/virtualenv.h"

namespace py = pybind11;

namespace wsgid {

std::string EmbeddedPythonVersion() {
  std::string version = Py_GetVersion();  // "3.12.1 (main, ...) [GCC ...]"
  return version.substr(0, version.find(' '));
}

void PrintEmbeddedPython() {
  std::printf("%s %s\n", EmbeddedPythonVersion().c_str(),
              WSGID_PYTHON_EXECUTABLE);
}

Status StartInterpreter(const std::string& virtualenv) {
  if (!virtualenv.empty()) {
    if (Status s = CheckVirtualenv(virtualenv, EmbeddedPythonVersion());
        !s.ok())
      return s;
  }
  // The interpreter locates its prefix (or, beside a pyvenv.cfg, the
  // virtualenv's) from this path, whatever other python3 is first on PATH.
  const std::string program = virtualenv.empty()
                                  ? std::string(WSGID_PYTHON_EXECUTABLE)
                                  : VirtualenvPython(virtualenv);
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  config.buffered_stdio =
      0;  // prints reach the log even if the worker is killed
  PyStatus status =
      PyConfig_SetBytesString(&config, &config.program_name, program.c_str());
  if (PyStatus_Exception(status)) {
    PyConfig_Clear(&config);
    return Status::Internal("cannot configure Python");
  }
  const char* argv[] = {"wsgid"};
  try {
    py::initialize_interpreter(&config, 1, argv,
                               /*add_program_dir_to_path=*/false);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot start Python: ") + e.what());
  }
  try {
    py::module_::import("faulthandler")
        .attr("enable")(py::arg("all_threads") = true);
  } catch (const py::error_already_set& e) {
    Log(LogLevel::kWarning) << "faulthandler unavailable: " << e.what();
  }
  return Status::Ok();
}

std::string FormatPythonError() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (type == nullptr) return "unknown error";
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != nullptr) PyException_SetTraceback(value, tb);
  std::string text;
  PyObject* traceback = PyImport_ImportModule("traceback");
  PyObject* lines = traceback ? PyObject_CallMethod(
                                    traceback, "format_exception", "OOO", type,
                                    value ? value : Py_None, tb ? tb : Py_None)
                              : nullptr;
  if (lines != nullptr) {
    PyObject* empty = PyUnicode_FromString("");
    PyObject* joined = PyUnicode_Join(empty, lines);
    if (joined != nullptr) {
      const char* s = PyUnicode_AsUTF8(joined);
      if (s) text = s;
      Py_DECREF(joined);
    }
    Py_DECREF(empty);
    Py_DECREF(lines);
  }
  if (text.empty()) text = "unprintable Python exception";
  PyErr_Clear();
  Py_XDECREF(traceback);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

StatusOr<PyObject*> LoadApplication(const Config& config) {
  std::string module_name = config.app;
  std::string target = "application";
  if (size_t colon = config.app.find(':'); colon != std::string::npos) {
    module_name = config.app.substr(0, colon);
    target = config.app.substr(colon + 1);
  }
  bool call_factory = false;
  if (target.size() > 2 && target.compare(target.size() - 2, 2, "()") == 0) {
    call_factory = true;
    target.resize(target.size() - 2);
  }
  try {
    py::list path = py::module_::import("sys").attr("path");
    // As Gunicorn does: the working directory first, then --pythonpath before
    // it.
    std::string cwd =
        py::module_::import("os").attr("getcwd")().cast<std::string>();
    path.insert(0, cwd);
    for (auto it = config.pythonpath.rbegin(); it != config.pythonpath.rend();
         ++it)
      path.insert(0, *it);
    py::object obj = py::module_::import(module_name.c_str());
    size_t start = 0;
    while (start <= target.size()) {
      size_t dot = target.find('.', start);
      std::string part = target.substr(
          start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!py::hasattr(obj, part.c_str()))
        return Status::Error(StatusCode::kAppLoad,
                             "application '" + config.app +
                                 "': no attribute '" + part + "' in module '" +
                                 module_name + "'");
      obj = obj.attr(part.c_str());
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (call_factory) obj = obj();
    if (!PyCallable_Check(obj.ptr()))
      return Status::Error(StatusCode::kAppLoad,
                           "application '" + config.app + "' is not callable");
    return obj.release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
    return Status::Error(StatusCode::kAppLoad, "failed to load application '" +
                                                   config.app + "':\n" +
                                                   FormatPythonError());
  }
}

}  // namespace wsgid
