// wsgid: the master process. Reads and checks the configuration, sets the
// process up (error log, identity check, umask) and hands over to Supervisor.
// Exit codes come from common/status_codes.h.
#include <openssl/rand.h>
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
#include "common/effective_settings.h"
#include "common/log.h"
#include "common/privileges.h"
#include "common/process_title.h"
#include "common/status_codes.h"
#include "common/syslog_sink.h"
#include "common/tls_settings.h"
#include "common/virtualenv.h"
#include "daemon/config_file.h"
#include "daemon/embedded_python.h"
#include "daemon/start_modes.h"
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

// The virtualenv wsgid is installed in (pip put it in the venv's bin/), the
// app's when neither a setting nor $VIRTUAL_ENV names one: found from argv[0]
// as run (a venv's bin/ entry may be a symlink to the real binary), else from
// the real binary (a symlink elsewhere pointing into a venv's bin/). Empty
// when neither is in a venv.
std::string FindInstalledVirtualenv(const char* argv0) {
  char cwd[PATH_MAX];
  std::string as_run = argv0 != nullptr ? argv0 : "";
  if (as_run.find('/') != std::string::npos &&
      ::getcwd(cwd, sizeof cwd) != nullptr)
    if (std::string v = VirtualenvHolding(AbsolutePathFrom(as_run, cwd));
        !v.empty())
      return v;
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  return VirtualenvHolding(std::string(self, static_cast<size_t>(n)));
}

// FindInstalledVirtualenv's answer, set once by main before anything changes
// directory; read by the start and every reload.
std::string& InstalledVirtualenv() {
  static std::string venv;
  return venv;
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
      if (!InstalledVirtualenv().empty())
        std::printf("installed in the virtualenv %s (the app's by default)\n",
                    InstalledVirtualenv().c_str());
      return 0;
    }
  }
  return std::nullopt;
}

// LoadConfig with the virtualenv wsgid is installed in as the last default
// (the workers get the virtualenv on their command line, absolute).
StatusOr<Config> LoadConfigWithVirtualenv(const Args& args, Args* warnings) {
  return LoadConfig(args, environ, warnings, InstalledVirtualenv());
}

// A reload's configuration: the same, with its virtualenv checked as at start
// (an error keeps the running generation).
StatusOr<Config> ReloadConfig(const Args& args, Args* warnings) {
  auto config = LoadConfigWithVirtualenv(args, warnings);
  if (!config.ok()) return config;
  if (Status s = CheckConfiguredVirtualenv(*config, WorkerPath()); !s.ok())
    return s;
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

// One line per Gunicorn setting given that changes nothing here, saying why.
Args UnusedSettingNotes(const Config& config) {
  Args notes;
  for (const auto& [flag, value] : config.accepted_unused)
    if (const Setting* setting = FindSettingByName(flag))
      notes.push_back(setting->why);
  return notes;
}

// --check-config: every warning and note, then the app imported in a worker
// process (as Gunicorn does). 0, or the exit code of what failed.
int CheckConfig(const Config& config, const Args& warnings) {
  for (const std::string& w : warnings)
    std::fprintf(stderr, "wsgid: warning: %s\n", w.c_str());
  for (const std::string& note : UnusedSettingNotes(config))
    std::fprintf(stderr, "wsgid: info: %s\n", note.c_str());
  std::fflush(stderr);
  if (Status s = CheckAppImport(config, WorkerPath()); !s.ok()) {
    std::fprintf(stderr, "wsgid: error: %s\n", s.message().c_str());
    return ExitCode(s);
  }
  std::printf("configuration OK\n");
  return 0;
}

// The error log, the warnings into it, --user/--group checked (a typo stops
// the start, with the reason), the umask (also the mode of unix: sockets).
Status SetUpProcess(const Config& config, const Args& warnings) {
  auto level = ParseLogLevel(config.log_level);
  if (Status s = OpenErrorLog(config.error_logfile, *level); !s.ok()) {
    std::fprintf(stderr, "wsgid: error: %s\n", s.message().c_str());
    return Status::InvalidArgument(s.message());
  }
  if (auto format = ParseLogFormat(config.log_format); format.ok())
    SetLogFormat(*format);
  if (config.syslog) {
    auto sink = SyslogSink::Open(config.syslog_addr, config.syslog_facility,
                                 config.syslog_prefix);
    if (!sink.ok()) {
      Log(LogLevel::kCritical)
          << "cannot start: --log-syslog: " << sink.status().message();
      return Status::InvalidArgument(sink.status().message());
    }
    SetErrorSyslog(sink->release());  // lives as long as the master
  }
  for (const std::string& w : warnings) Log(LogLevel::kWarning) << w;
  for (const std::string& note : UnusedSettingNotes(config))
    Log(LogLevel::kInfo) << note;
  if (auto identity = ResolveIdentity(config.user, config.group);
      !identity.ok()) {
    Log(LogLevel::kCritical) << "cannot start: " << identity.status().message();
    return identity.status();
  }
  ::umask(static_cast<mode_t>(config.umask));
  return Status::Ok();
}

// issue 17: one secret in the environment every worker inherits, from which
// they all derive the same TLS session ticket keys (worker/tls_context.h), so
// a session resumes on any worker. Kept across USR2 (the new master inherits
// it); each worker removes it from its own environment before the app starts.
void ShareTlsTicketSeed() {
  if (::getenv("WSGID_TLS_TICKET_SEED") != nullptr) return;
  unsigned char seed[32];
  if (RAND_bytes(seed, sizeof seed) != 1) return;  // workers make their own
  char hex[2 * sizeof seed + 1];
  for (size_t i = 0; i < sizeof seed; ++i)
    std::snprintf(hex + 2 * i, 3, "%02x", seed[i]);
  ::setenv("WSGID_TLS_TICKET_SEED", hex, 1);
}

// Starts the workers and supervises them; a reload reads `args` again.
int Serve(Config config, const Args& args) {
  Supervisor supervisor(
      std::move(config), WorkerPath(),
      [args](Args* reload_warnings) {
        return ReloadConfig(args, reload_warnings);
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
  InstalledVirtualenv() = FindInstalledVirtualenv(argv[0]);
  if (std::optional<int> code = AnswerInfoFlags(args)) return *code;
  Args warnings;
  auto config = LoadValidConfig(args, &warnings);
  if (!config.ok()) return ExitCode(config.status());
  if (config->print_config) {
    std::fputs(FormatSettingLines(EffectiveSettings(*config, EnvValues::kShown))
                   .c_str(),
               stdout);
    return 0;
  }
  for (std::string& w : TlsSettingWarnings(*config)) warnings.push_back(w);
  ShareTlsTicketSeed();
  if (config->check_config) return CheckConfig(*config, warnings);
  if (config->daemon)
    if (Status s = Daemonize(); !s.ok()) return ExitCode(s);
  if (!config->proc_name.empty())
    SetProcessTitle(argv, "wsgid: master [" + config->proc_name + "]");
  if (Status s = SetUpProcess(*config, warnings); !s.ok()) return ExitCode(s);
  return Serve(std::move(config).value(), args);
}
