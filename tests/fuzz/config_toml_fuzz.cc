// libFuzzer target: ApplyToml, the -c wsgid.toml reader, over arbitrary text.
//
// Beyond the sanitizers, it checks:
// - an error names the origin ("fuzz.toml:") as the header promises;
// - a configuration the file leaves valid (ValidateConfig) survives the trip
//   to a worker: ToArgs then ParseCommandLine gives back the same settings,
//   every row of the settings table a worker needs (that is how wsgid hands
//   its settings to wsgid-worker), and every row with ToArgs(config, kBoth).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/config.h"
#include "common/settings.h"
#include "daemon/config_file.h"

namespace {

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "config_toml_fuzz: invariant violated: %s\n", what);
  std::abort();
}

#define CHECK(cond) \
  if (!(cond)) Violation(#cond)

// Whether a and b agree on the app and every setting `reader` reads (the
// settings table's rows).
bool SameSettings(const wsgid::Config& a, const wsgid::Config& b,
                  wsgid::Needs reader) {
  if (a.app != b.app) return false;
  for (const wsgid::Setting& setting : wsgid::SettingsTable())
    if (wsgid::NeededBy(setting.needs, reader) && !setting.field.same(a, b))
      return false;
  return true;
}

// ParseCommandLine(ToArgs(config, reader)) gives back what `reader` reads.
void CheckRoundTrip(const wsgid::Config& config, wsgid::Needs reader) {
  auto back = wsgid::ParseCommandLine(wsgid::ToArgs(config, reader));
  if (!back.ok()) {
    std::fprintf(stderr, "ParseCommandLine(ToArgs(config)): %s\n",
                 back.status().message().c_str());
    Violation("a valid configuration does not reach the worker");
  }
  if (!SameSettings(config, *back, reader))
    Violation("ParseCommandLine(ToArgs(config)) differs from config");
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
  CheckRoundTrip(config, wsgid::Needs::kWorker);  // what the master hands over
  CheckRoundTrip(config, wsgid::Needs::kBoth);    // every setting
  return 0;
}
