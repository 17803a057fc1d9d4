// wsgid-worker: one worker process. Started by wsgid with the listening
// sockets, a ready pipe and the configuration on its command line; can also run
// alone with -b. The boot steps are in worker/worker_boot.h; the exit codes
// come from the status code table (2 bad command line, 3 boot failure, 4 app
// not importable). `wsgid-worker --python-version` prints the embedded Python.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/log.h"
#include "common/process_title.h"
#include "common/status_codes.h"
#include "worker/hook_helper.h"
#include "worker/python_app.h"
#include "worker/worker_boot.h"

namespace {

[[noreturn]] void Die(const wsgid::Status& status) {
  wsgid::Log(wsgid::LogLevel::kError) << status.message();
  ::_exit(wsgid::ExitCodeFor(wsgid::Program::kWorker, status));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wsgid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);
  // The master links no Python: it asks its worker binary which one it embeds.
  if (argc == 2 && std::string(argv[1]) == "--python-version") {
    PrintEmbeddedPython();
    return 0;
  }
  auto parsed =
      ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::fprintf(stderr, "wsgid-worker: %s\n",
                 parsed.status().message().c_str());
    return ExitCodeFor(Program::kWorker, parsed.status());
  }
  if (parsed->worker_hook_helper) {
    int code = RunHookHelper(*parsed);
    std::fflush(nullptr);
    ::_exit(code);
  }
  bool check_only = parsed->worker_check_app;  // wsgid --check-config
  if (!parsed->proc_name.empty())
    SetProcessTitle(argv, "wsgid: worker [" + parsed->proc_name + "]");
  WorkerBoot boot(std::move(parsed).value());
  if (Status s = boot.PrepareProcess(); !s.ok()) Die(s);
  if (Status s = boot.StartApplication(); !s.ok()) Die(s);
  if (check_only) {
    std::fflush(nullptr);
    ::_exit(0);
  }
  int code = boot.Serve();
  // Threads may still be inside the app: leave without finalising Python under
  // them.
  std::fflush(nullptr);
  ::_exit(code);
}
