// libFuzzer target: ApplyToml, the -c wsgid.toml reader, over arbitrary text.
//
// Beyond the sanitizers, it checks:
// - an error names the origin ("fuzz.toml:") as the header promises;
// - a configuration the file leaves valid (ValidateConfig) survives the trip
//   to a worker: ToArgs then ParseCommandLine gives back the same settings
//   (that is how wsgid hands its settings to wsgid-worker).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/config.h"
#include "common/config_file.h"

namespace {

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "config_toml_fuzz: invariant violated: %s\n", what);
  std::abort();
}

#define CHECK(cond) \
  if (!(cond)) Violation(#cond)

// The settings ToArgs carries to the worker (not the master-only ones: the
// control and ops endpoints, the config file, the worker fds).
bool SameWorkerSettings(const wsgid::Config& a, const wsgid::Config& b) {
  return a.app == b.app && a.binds == b.binds && a.workers == b.workers &&
         a.threads == b.threads && a.chdir == b.chdir &&
         a.pythonpath == b.pythonpath && a.env == b.env &&
         a.timeout == b.timeout && a.graceful_timeout == b.graceful_timeout &&
         a.request_timeout == b.request_timeout &&
         a.abort_grace == b.abort_grace && a.max_workers == b.max_workers &&
         a.max_requests == b.max_requests &&
         a.max_requests_jitter == b.max_requests_jitter &&
         a.pidfile == b.pidfile && a.user == b.user && a.group == b.group &&
         a.umask == b.umask && a.keep_alive == b.keep_alive &&
         a.header_timeout == b.header_timeout && a.io_timeout == b.io_timeout &&
         a.backlog == b.backlog &&
         a.limit_request_line == b.limit_request_line &&
         a.limit_request_fields == b.limit_request_fields &&
         a.limit_request_field_size == b.limit_request_field_size &&
         a.limit_request_body == b.limit_request_body &&
         a.header_map == b.header_map &&
         a.permit_obsolete_folding == b.permit_obsolete_folding &&
         a.forwarded_allow_ips == b.forwarded_allow_ips &&
         a.root_path == b.root_path && a.access_logfile == b.access_logfile &&
         a.access_logformat == b.access_logformat &&
         a.error_logfile == b.error_logfile && a.log_level == b.log_level &&
         a.server_header == b.server_header && a.check_config == b.check_config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  wsgid::Config config;
  wsgid::Status s = wsgid::ApplyToml(text, "fuzz.toml", &config);
  if (!s.ok()) {
    CHECK(s.message().rfind("fuzz.toml:", 0) == 0);
    return 0;
  }
  if (!wsgid::ValidateConfig(config).ok()) return 0;
  auto back = wsgid::ParseCommandLine(wsgid::ToArgs(config));
  if (!back.ok()) {
    std::fprintf(stderr, "ParseCommandLine(ToArgs(config)): %s\n",
                 back.status().message().c_str());
    Violation("a valid configuration does not reach the worker");
  }
  if (!SameWorkerSettings(config, *back))
    Violation("ParseCommandLine(ToArgs(config)) differs from config");
  return 0;
}
