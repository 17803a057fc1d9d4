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
#include "common/unique_fd.h"
#include "worker/server.h"
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
  // PrepareProcess succeeded. Returns with the GIL released.
  Status StartApplication();
  // Tells the master the worker is ready and serves until the worker stops.
  // Returns the process's exit code. REQUIRES: StartApplication succeeded.
  int Serve();

 private:
  Status OpenLogs();
  void SetProcessLimits();
  Status EnterWorkingDirectory();
  Status OpenOwnListeners();
  Status AttachScoreboard();
  Status DropIdentity();
  // issue 17: the TLS context is built here, before privileges are dropped (a
  // key readable only by root stays so), and the ticket seed leaves the
  // environment before Python copies it into os.environ.
  Status LoadTls();

  Config config_;
  std::vector<int> listen_fds_;
  std::vector<UniqueFd> own_listeners_;  // standalone (-b) only
  Scoreboard scoreboard_;
  WorkerSlot* slot_ = nullptr;  // nullptr when running alone
  std::unique_ptr<WsgiHandler> handler_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<TlsContext> tls_context_;  // null: no TLS listener
};

}  // namespace wsgid
