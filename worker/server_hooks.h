// ServerHooks: Gunicorn's worker-side server hooks, from the gunicorn.conf.py
// (or python:MODULE) the master names in --worker-hooks-file, run in this
// worker with the app's interpreter:
//   post_fork(server, worker)        AfterWorkerProcessExists: before the app
//                                    is imported; raising fails the boot like
//                                    an import error (kAppLoad)
//   post_worker_init(worker)         AfterAppLoaded
//   pre_request(worker, req)         PreRequest, before the app is called
//   post_request(worker, req, environ, resp)  PostRequest, after close()
//   worker_int(worker)               SIGINT/SIGQUIT (WorkerLifeHooks)
//   worker_abort(worker)             SIGABRT of the timeout ladder
//   worker_exit(server, worker)      the worker leaves by itself
// A hook that raises is logged with its traceback and the worker goes on
// (post_fork aside). `server`, `worker`, `req` and `resp` are stand-ins with
// the attributes hooks use (worker/server_hooks_source.cc; README "Server
// hooks"). The request hooks cost one branch per request when unset.
//
// Threading: Load, the boot points and the request hooks with the GIL held
// (the request hooks on app threads); the WorkerLifeHooks on the main thread,
// which take the GIL themselves. Lives as long as the process.
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <memory>

#include "common/config.h"
#include "common/status.h"
#include "worker/http_parser.h"
#include "worker/response.h"
#include "worker/worker_life_hooks.h"

namespace wsgid {

// The module `_wsgid_hooks` (stand-ins, loader, helper loop), made once per
// process with its log_line wired to the error log. REQUIRES: the GIL.
pybind11::module_ HooksModule();

// Every public setting of `config` by its Gunicorn name and its wsgid key,
// typed (bool, int, float, str, list): what cfg.<name> returns. REQUIRES: the
// GIL.
pybind11::dict HookSettings(const Config& config);

class ServerHooks : public WorkerLifeHooks {
 public:
  // Loads the hooks of config.worker_hooks_file; nullptr when there is no
  // file or it defines no worker-side hook. A file that cannot be loaded is
  // kAppLoad with its traceback. With worker_abort or worker_exit defined,
  // SIGABRT is caught after faulthandler's dump (InstallAbortCatcher).
  // REQUIRES: the GIL.
  static StatusOr<std::unique_ptr<ServerHooks>> Load(const Config& config);

  // post_fork, "after this worker's process exists" (before the app is
  // imported); kAppLoad with the traceback when it raises. worker.pid,
  // .ppid and .age are this process's first (a worker forked from a zygote
  // has the hooks the zygote loaded). REQUIRES: the GIL.
  Status AfterWorkerProcessExists(int worker_age);
  // post_worker_init, "after the app is loaded in this worker"; worker.wsgi is
  // the app from then on. REQUIRES: the GIL.
  void AfterAppLoaded(PyObject* app);

  // Whether pre_request or post_request is defined.
  bool has_request_hooks() const { return has_request_hooks_; }
  // Builds `req` and calls pre_request; returns `req` (a new reference, or
  // nullptr) for PostRequest. REQUIRES: the GIL, has_request_hooks().
  PyObject* PreRequest(const RequestHead& head);
  // Calls post_request and releases `req`. REQUIRES: the GIL.
  void PostRequest(PyObject* req, PyObject* environ, const Response& response);

  // WorkerLifeHooks (main thread; they take the GIL).
  void WorkerInt() override;
  void WorkerAbort() override;
  void WorkerExit() override;

 private:
  // Takes a new reference to each (kept for the process's life).
  ServerHooks(pybind11::handle module, pybind11::handle hooks,
              pybind11::handle server, pybind11::handle worker);
  // Calls hook `name` with `args` through _wsgid_hooks.call; false if it
  // raised (logged). REQUIRES: the GIL.
  bool Call(const char* name, const pybind11::tuple& args);
  // Whether hook `name` is defined. REQUIRES: the GIL.
  bool Has(const char* name) const;
  // Calls hook `name` from the main thread, taking the GIL.
  void CallWithGil(const char* name, bool with_server);

  // Python objects as raw references: pybind11's types are hidden-visibility.
  PyObject* module_;  // _wsgid_hooks
  PyObject* hooks_;   // dict: hook name -> function
  PyObject* server_;
  PyObject* worker_;
  bool has_request_hooks_ = false;
};

}  // namespace wsgid
