// WorkerBoot: the boot of one wsgid-worker process, as named steps, so that
// main only sequences them and turns a failure into the exit code.
//
// The exit codes come from the status code table (common/status_codes.h,
// worker column): a failed boot step is kUnavailable (3) whatever its own
// code said (a bad -b address is kInvalidArgument, which would read as a bad
// command line, 2), and the application's import failure keeps kAppLoad (4),
// which the master reads to stop respawning a broken app.
//
// Used by main only, on the main thread, once; the object lives until the
// process exits (main leaves with _exit: app threads may still be in Python).
#pragma once

#include <memory>
#include <vector>

#include "common/config.h"
#include "common/scoreboard.h"
#include "common/status.h"
#include "common/syslog_sink.h"
#include "common/unique_fd.h"
#include "worker/server.h"
#include "worker/server_hooks.h"
#include "worker/wsgi_handler.h"

namespace wsgid {

class WorkerBoot {
 public:
  explicit WorkerBoot(Config config);
  ~WorkerBoot();

  // The steps before Python: descriptors the master did not hand over are
  // closed, the error log opened (the app's stdout and stderr go there too),
  // the master checked to be alive, limits, environment and working
  // directory set, the listeners bound (when running alone), the scoreboard
  // slot attached and privileges dropped. Failures are kUnavailable.
  Status PrepareProcess();
  // Starts Python, imports the app (kAppLoad when it cannot be), and builds
  // the handler and the server (failures kUnavailable). REQUIRES:
  // PrepareProcess succeeded. Returns with the GIL released. With
  // --worker-zygote it returns only in a forked worker (ServeAsZygote). The
  // server hooks run at two named points: AfterWorkerProcessExists (post_fork:
  // before the app is imported, or right after the fork from a zygote that
  // imported it) and AfterAppLoaded (post_worker_init); a forked worker goes
  // through both, as a spawned one does.
  Status StartApplication();
  // Tells the master the worker is ready and serves until the worker stops.
  // Returns the process's exit code. REQUIRES: StartApplication succeeded.
  int Serve();

 private:
  // StartApplication's halves, for the zygote (issue 16): LoadApp starts
  // Python and imports the app (kAppLoad when it cannot be), keeping the
  // GIL; StartServer builds the handler and the server in the process that
  // will serve (after the fork, in a forked worker) and releases the GIL.
  Status LoadApp();
  Status StartServer();
  // --worker-zygote: serves fork requests (worker/zygote.h) and returns only
  // in a forked worker, which then takes its slot and ready pipe; it goes on
  // with StartServer and Serve like any worker. REQUIRES: LoadApp succeeded.
  Status ServeAsZygote();
  Status OpenLogs();
  Status OpenSyslog();  // --log-syslog: this process's own socket
  void SetProcessLimits();
  Status EnterWorkingDirectory();
  Status OpenOwnListeners();
  Status AttachScoreboard();
  Status AttachSlot();  // the slot of config_.worker_id
  Status DropIdentity();
  // The worker-side server hooks of --worker-hooks-file, loaded once (in a
  // zygote: before the fork, so its workers inherit them).
  Status LoadHooks();
  // The boot points of the server hooks (REQUIRES: the GIL). post_fork
  // raising is kAppLoad, as an import error.
  Status AfterWorkerProcessExists();
  void AfterAppLoaded(PyObject* app);
  // issue 17: the TLS context is built here, before privileges are dropped (a
  // key readable only by root stays so), and the ticket seed leaves the
  // environment before Python copies it into os.environ.
  Status LoadTls();

  Config config_;
  std::vector<int> listen_fds_;
  std::vector<UniqueFd> own_listeners_;  // standalone (-b) only
  std::unique_ptr<SyslogSink> syslog_;   // --log-syslog
  Scoreboard scoreboard_;
  WorkerSlot* slot_ = nullptr;  // nullptr when running alone
  PyObject* app_ = nullptr;     // a new reference, kept for the process's life
  std::unique_ptr<ServerHooks> hooks_;  // null: no worker-side hook
  std::unique_ptr<WsgiHandler> handler_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<TlsContext> tls_context_;  // null: no TLS listener
};

}  // namespace wsgid
