// wsgid: the master process. Parses the configuration and hands over to
// Supervisor.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>

extern char** environ;

#include "common/config.h"
#include "common/log.h"
#include "common/privileges.h"
#include "common/status_codes.h"
#include "daemon/config_file.h"
#include "daemon/supervisor.h"

namespace {

// wsgid-worker lives next to the wsgid executable.
std::string WorkerPath() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "wsgid-worker";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "wsgid-worker";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wsgid;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::fputs(UsageText("wsgid").c_str(), stdout);
      return 0;
    }
    if (a == "--version" || a == "-v") {
      std::printf("wsgid %s\n", WSGID_VERSION);
      return 0;
    }
  }
  std::vector<std::string> warnings;
  auto config = LoadConfig(args, environ, &warnings);
  Status valid = config.ok() ? ValidateConfig(*config) : config.status();
  if (!valid.ok()) {
    std::fprintf(stderr, "wsgid: error: %s\n(see wsgid --help)\n",
                 valid.message().c_str());
    return ExitCodeFor(Program::kDaemon, Status::InvalidArgument(""));
  }
  if (config->check_config) {
    std::printf("configuration OK\n");
    return 0;
  }
  auto level = ParseLogLevel(config->log_level);
  if (Status s = OpenErrorLog(config->error_logfile, *level); !s.ok()) {
    std::fprintf(stderr, "wsgid: error: %s\n", s.message().c_str());
    return ExitCodeFor(Program::kDaemon, Status::InvalidArgument(""));
  }
  for (const std::string& w : warnings) Log(LogLevel::kWarning) << w;
  // A typo in --user or --group stops the start, with the reason.
  if (auto identity = ResolveIdentity(config->user, config->group);
      !identity.ok()) {
    Log(LogLevel::kCritical) << "cannot start: " << identity.status().message();
    return ExitCodeFor(Program::kDaemon, identity.status());
  }
  ::umask(
      static_cast<mode_t>(config->umask));  // also the mode of unix: sockets
  Supervisor supervisor(
      std::move(config).value(), WorkerPath(),
      [args](std::vector<std::string>* reload_warnings) {
        return LoadConfig(args, environ, reload_warnings);
      },
      args);
  if (Status s = supervisor.Start(); !s.ok()) {
    Log(LogLevel::kCritical) << "cannot start: " << s.message();
    return ExitCodeFor(Program::kDaemon, s);
  }
  return supervisor.Run();
}
