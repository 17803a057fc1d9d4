// EffectiveSettings: the merged settings as --print-config prints them and
// GET /v1/config answers them (issue 15), derived from the settings table.
//
// One entry per public row that takes part (not the refused rows, not the
// --check-config and --print-config actions), named as Gunicorn names it (the
// row's gunicorn column, else wsgid's TOML key), and the app as wsgi_app.
// Values are Python literals ('text', 4, 2.5, True, None, ['a', 'b'], 0o027),
// so the printed lines are a gunicorn.conf.py that -c reads back into the same
// settings. The control token is never in a Config (only its file's path);
// the values of raw_env (-e NAME=VALUE, where deployments keep passwords and
// DSNs) are shown to the local --print-config and hidden from the control API.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"

namespace wsgid {

struct EffectiveSetting {
  std::string name;    // "workers", "worker_class", "ops_bind"
  std::string value;   // a Python literal: "4", "'sync'", "None"
  std::string source;  // "default", "file", "environment" or "flag"
};

// Whether raw_env's values are shown ('NAME=VALUE') or hidden
// ('NAME=<hidden>').
enum class EnvValues { kShown, kHidden };

// Every printable setting of `config`, sorted by name.
std::vector<EffectiveSetting> EffectiveSettings(const Config& config,
                                                EnvValues env_values);

// "name = value  # source" lines (names padded to one column, as Gunicorn's
// --print-config), each ending in '\n'. The source is a Python comment, so
// the lines still read back with -c.
std::string FormatSettingLines(const std::vector<EffectiveSetting>& settings);

}  // namespace wsgid
