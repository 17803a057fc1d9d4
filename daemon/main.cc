// wsgid: the master process. Reads and checks the configuration, sets the
// process up (error log, identity check, umask) and hands over to Supervisor.
// Exit codes come from common/status_codes.h.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

#include "common/config.h"
#include "common/log.h"
#include "common/privileges.h"
#include "common/status_codes.h"
#include "daemon/config_file.h"
#include "daemon/embedded_python.h"
#include "daemon/supervisor.h"

namespace wsgid {
namespace {

using Args = std::vector<std::string>;

int ExitCode(const Status& status) {
  return ExitCodeFor(Program::kDaemon, status);
}

// wsgid-worker lives next to the wsgid executable.
std::string WorkerPath() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "wsgid-worker";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "wsgid-worker";
}

// --help and --version answer without a configuration: the exit code, or none.
std::optional<int> AnswerInfoFlags(const Args& args) {
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::fputs(UsageText("wsgid").c_str(), stdout);
      return 0;
    }
    if (a == "--version" || a == "-v") {
      std::printf("wsgid %s\n", WSGID_VERSION);
      // The Python is the worker binary's (built per version, or by pip).
      auto python = QueryEmbeddedPython(WorkerPath());
      if (python.ok())
        std::printf("Python %s (%s)\n", python->version.c_str(),
                    python->executable.c_str());
      else
        std::printf("Python: unknown (%s)\n",
                    python.status().message().c_str());
      return 0;
    }
  }
  return std::nullopt;
}

// LoadConfig, and --virtualenv defaulted to $VIRTUAL_ENV (the workers get it
// on their command line, so a reload keeps it).
StatusOr<Config> LoadConfigWithVirtualenv(const Args& args, Args* warnings) {
  auto config = LoadConfig(args, environ, warnings);
  const char* virtual_env = std::getenv("VIRTUAL_ENV");
  if (config.ok() && config->virtualenv.empty() && virtual_env != nullptr)
    config->virtualenv = virtual_env;
  return config;
}

// Defaults < file < environment < flags, validated (the virtualenv against
// the worker's Python too); an error is printed.
StatusOr<Config> LoadValidConfig(const Args& args, Args* warnings) {
  auto config = LoadConfigWithVirtualenv(args, warnings);
  Status valid = config.ok() ? ValidateConfig(*config) : config.status();
  if (valid.ok()) valid = CheckConfiguredVirtualenv(*config, WorkerPath());
  if (valid.ok()) return config;
  std::fprintf(stderr, "wsgid: error: %s\n(see wsgid --help)\n",
               valid.message().c_str());
  return Status::InvalidArgument(valid.message());
}

// The error log, the warnings into it, --user/--group checked (a typo stops
// the start, with the reason), the umask (also the mode of unix: sockets).
Status SetUpProcess(const Config& config, const Args& warnings) {
  auto level = ParseLogLevel(config.log_level);
  if (Status s = OpenErrorLog(config.error_logfile, *level); !s.ok()) {
    std::fprintf(stderr, "wsgid: error: %s\n", s.message().c_str());
    return Status::InvalidArgument(s.message());
  }
  for (const std::string& w : warnings) Log(LogLevel::kWarning) << w;
  if (auto identity = ResolveIdentity(config.user, config.group);
      !identity.ok()) {
    Log(LogLevel::kCritical) << "cannot start: " << identity.status().message();
    return identity.status();
  }
  ::umask(static_cast<mode_t>(config.umask));
  return Status::Ok();
}

// Starts the workers and supervises them; a reload reads `args` again.
int Serve(Config config, const Args& args) {
  Supervisor supervisor(
      std::move(config), WorkerPath(),
      [args](Args* reload_warnings) {
        return LoadConfigWithVirtualenv(args, reload_warnings);
      },
      args);
  if (Status s = supervisor.Start(); !s.ok()) {
    Log(LogLevel::kCritical) << "cannot start: " << s.message();
    return ExitCode(s);
  }
  return supervisor.Run();
}

}  // namespace
}  // namespace wsgid

int main(int argc, char** argv) {
  using namespace wsgid;
  Args args(argv + 1, argv + argc);
  if (std::optional<int> code = AnswerInfoFlags(args)) return *code;
  Args warnings;
  auto config = LoadValidConfig(args, &warnings);
  if (!config.ok()) return ExitCode(config.status());
  if (config->check_config) {
    std::printf("configuration OK\n");
    return 0;
  }
  if (Status s = SetUpProcess(*config, warnings); !s.ok()) return ExitCode(s);
  return Serve(std::move(config).value(), args);
}
