#include "worker/server_hooks.h"

#include <pybind11/eval.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/log.h"
#include "common/settings.h"
#include "worker/python_app.h"
#include "worker/server_hooks_source.h"

namespace py = pybind11;

namespace wsgid {
namespace {

constexpr const char* kModuleName = "_wsgid_hooks";

// One setting's value as Python sees it in cfg.
py::object SettingValue(const Setting& setting, const Config& config) {
  std::vector<std::string> values = setting.field.format(config);
  switch (setting.field.kind) {
    case ValueKind::kBool:
      return py::bool_(!values.empty() && values[0] == "true");
    case ValueKind::kInt:
    case ValueKind::kSize:
      if (values.empty()) return py::none();
      return py::int_(std::strtoll(values[0].c_str(), nullptr,
                                   setting.field.octal ? 8 : 10));
    case ValueKind::kSeconds:
      if (values.empty()) return py::none();
      return py::float_(std::strtod(values[0].c_str(), nullptr));
    case ValueKind::kString:
      return py::str(values.empty() ? std::string() : values[0]);
    case ValueKind::kList: {
      py::list items;
      for (const std::string& v : values)
        if (!v.empty()) items.append(py::str(v));
      return items;
    }
  }
  return py::none();
}

// The hook failure as a Status with the traceback.
Status HookLoadError(const std::string& what) {
  return Status::Error(StatusCode::kAppLoad,
                       what + ":\n" + FormatPythonError());
}

}  // namespace

py::module_ HooksModule() {
  py::dict modules = py::module_::import("sys").attr("modules");
  if (modules.contains(kModuleName))
    return py::reinterpret_borrow<py::module_>(modules[kModuleName]);
  py::module_ module =
      py::module_::import("types").attr("ModuleType")(kModuleName);
  py::exec(kServerHooksSource, module.attr("__dict__"));
  module.attr("log_line") =
      py::cpp_function([](int level, const std::string& text, bool exception) {
        auto lvl = static_cast<LogLevel>(std::clamp(level, 0, 4));
        if (LogEnabled(lvl))
          LogLine(lvl, text, exception);
        else
          CountLogRecord(lvl, exception);
      });
  module.attr("reopen_logs") = py::cpp_function([] { ReopenLogs(); });
  module.attr("log_counts") = py::cpp_function([] {
    return py::make_tuple(LocalLogCount(LogCounter::kWarning),
                          LocalLogCount(LogCounter::kError),
                          LocalLogCount(LogCounter::kCritical),
                          LocalLogCount(LogCounter::kException));
  });
  modules[kModuleName] = module;
  return module;
}

py::dict HookSettings(const Config& config) {
  py::dict settings;
  for (const Setting& setting : SettingsTable()) {
    if (setting.internal) continue;
    py::object value = SettingValue(setting, config);
    settings[py::str(SettingKey(setting))] = value;
    if (!setting.gunicorn.empty()) settings[py::str(setting.gunicorn)] = value;
  }
  settings["wsgi_app"] = py::str(config.app);
  return settings;
}

ServerHooks::ServerHooks(py::handle module, py::handle hooks, py::handle server,
                         py::handle worker)
    : module_(module.inc_ref().ptr()),
      hooks_(hooks.inc_ref().ptr()),
      server_(server.inc_ref().ptr()),
      worker_(worker.inc_ref().ptr()) {
  has_request_hooks_ = Has("pre_request") || Has("post_request");
}

bool ServerHooks::Has(const char* name) const {
  return PyDict_GetItemString(hooks_, name) != nullptr;
}

StatusOr<std::unique_ptr<ServerHooks>> ServerHooks::Load(const Config& config) {
  if (config.worker_hooks_file.empty()) return std::unique_ptr<ServerHooks>();
  try {
    py::module_ module = HooksModule();
    py::dict hooks = module.attr("load")(config.worker_hooks_file,
                                         py::cast(config.pythonpath));
    bool any = false;
    for (const char* name :
         {"post_fork", "post_worker_init", "pre_request", "post_request",
          "worker_int", "worker_abort", "worker_exit"})
      any |= hooks.contains(name);
    if (!any) return std::unique_ptr<ServerHooks>();
    py::object cfg = module.attr("Config")(HookSettings(config));
    py::object log = module.attr("Log")();
    py::object server =
        module.attr("Server")(::getppid(), cfg, log, config.workers);
    py::object worker = module.attr("Worker")(::getpid(), ::getppid(),
                                              config.worker_age, cfg, log);
    if (hooks.contains("worker_abort") || hooks.contains("worker_exit")) {
      // faulthandler chains to the handler it found when enabled: put the
      // catcher under it, so the stacks are dumped first.
      py::module_ faulthandler = py::module_::import("faulthandler");
      faulthandler.attr("disable")();
      InstallAbortCatcher();
      faulthandler.attr("enable")(py::arg("all_threads") = true);
    }
    return std::unique_ptr<ServerHooks>(
        new ServerHooks(module, hooks, server, worker));
  } catch (py::error_already_set& e) {
    e.restore();
    return HookLoadError("cannot load the server hooks of " +
                         config.worker_hooks_file);
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kAppLoad,
                         "cannot load the server hooks of " +
                             config.worker_hooks_file + ": " + e.what());
  }
}

bool ServerHooks::Call(const char* name, const py::tuple& args) {
  try {
    py::tuple call_args(args.size() + 2);
    call_args[0] = py::handle(hooks_);
    call_args[1] = py::str(name);
    for (size_t i = 0; i < args.size(); ++i) call_args[i + 2] = args[i];
    return py::handle(module_).attr("call")(*call_args).cast<bool>();
  } catch (py::error_already_set& e) {
    e.restore();
    Log(LogLevel::kError) << "hook " << name << ": " << FormatPythonError();
    return false;
  }
}

Status ServerHooks::AfterWorkerProcessExists(int worker_age) {
  py::handle worker(worker_);
  worker.attr("pid") = ::getpid();
  worker.attr("ppid") = ::getppid();
  worker.attr("age") = worker_age;
  if (!Has("post_fork")) return Status::Ok();
  if (Call("post_fork",
           py::make_tuple(py::handle(server_), py::handle(worker_))))
    return Status::Ok();
  return Status::Error(StatusCode::kAppLoad,
                       "the post_fork hook raised (traceback above)");
}

void ServerHooks::AfterAppLoaded(PyObject* app) {
  py::handle(worker_).attr("wsgi") = py::reinterpret_borrow<py::object>(app);
  py::handle(worker_).attr("booted") = true;
  if (Has("post_worker_init"))
    Call("post_worker_init", py::make_tuple(py::handle(worker_)));
}

PyObject* ServerHooks::PreRequest(const RequestHead& head) {
  try {
    py::list headers;
    for (const HeaderField& h : head.headers) {
      std::string name(h.name);
      for (char& c : name)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      headers.append(
          py::make_tuple(py::str(name), py::str(std::string(h.value))));
    }
    py::object req = py::handle(module_).attr("Request")(
        py::str(std::string(head.method)), py::str(std::string(head.target)),
        py::str(std::string(head.path)), py::str(std::string(head.query)),
        head.version_minor, headers);
    if (Has("pre_request"))
      Call("pre_request", py::make_tuple(py::handle(worker_), req));
    return req.release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
    Log(LogLevel::kError) << "pre_request: " << FormatPythonError();
    return nullptr;
  }
}

void ServerHooks::PostRequest(PyObject* req, PyObject* environ,
                              const Response& response) {
  if (req == nullptr) return;
  py::object request = py::reinterpret_steal<py::object>(req);
  if (!Has("post_request")) return;
  try {
    py::list headers;
    for (const auto& [name, value] : response.headers())
      headers.append(py::make_tuple(name, value));
    py::object resp = py::handle(module_).attr("Response")(
        response.status_line(), headers, response.body_bytes());
    py::object env = environ != nullptr
                         ? py::reinterpret_borrow<py::object>(environ)
                         : py::none();
    Call("post_request",
         py::make_tuple(py::handle(worker_), request, env, resp));
  } catch (py::error_already_set& e) {
    e.restore();
    Log(LogLevel::kError) << "post_request: " << FormatPythonError();
  }
}

void ServerHooks::CallWithGil(const char* name, bool with_server) {
  py::gil_scoped_acquire gil;  // the main thread's own state
  py::handle(worker_).attr("alive") = false;
  if (Has(name))
    Call(name, with_server
                   ? py::make_tuple(py::handle(server_), py::handle(worker_))
                   : py::make_tuple(py::handle(worker_)));
}

void ServerHooks::WorkerInt() { CallWithGil("worker_int", false); }

void ServerHooks::WorkerAbort() {
  Log(LogLevel::kInfo)
      << "worker aborted after a timeout: running worker_abort";
  CallWithGil("worker_abort", false);
}

void ServerHooks::WorkerExit() { CallWithGil("worker_exit", true); }

}  // namespace wsgid
