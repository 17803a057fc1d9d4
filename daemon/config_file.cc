#include "daemon/config_file.h"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "common/settings.h"
#include "daemon/host_limits.h"
#include "daemon/toml_reader.h"

namespace wsgid {
namespace {

// Checks a value against the setting's kind and applies it.
Status ApplyTyped(ConfigLayer* layer, const std::string& key,
                  const TomlValue& value) {
  auto kind = ConfigLayer::KindOf(key);
  if (!kind.ok()) return kind.status();
  using Type = TomlValue::Type;
  auto wrong = [&](const char* wanted) {
    return Status::InvalidArgument("'" + key + "' must be " + wanted +
                                   ", not " + value.TypeName());
  };
  switch (*kind) {
    case ValueKind::kBool:
      if (value.type != Type::kBool) return wrong("a boolean");
      return layer->Set(key, value.text);
    case ValueKind::kInt:
      if (value.type != Type::kInteger) return wrong("an integer");
      return layer->Set(key, value.text);
    case ValueKind::kSeconds:
      if (value.type != Type::kInteger && value.type != Type::kFloat)
        return wrong("a number of seconds");
      return layer->Set(key, value.text);
    case ValueKind::kString:
      if (value.type != Type::kString) return wrong("a string");
      return layer->Set(key, value.text);
    case ValueKind::kSize:
      // Bytes as an integer, or a string with a suffix ("512M").
      if (value.type != Type::kInteger && value.type != Type::kString)
        return wrong("a size (bytes, or a string like \"512M\")");
      return layer->Set(key, value.text);
    case ValueKind::kList:
      if (value.type == Type::kString) return layer->Set(key, value.text);
      if (value.type != Type::kArray)
        return wrong("a string or an array of strings");
      layer->Clear(key);  // an empty array empties the list
      for (const TomlValue& item : value.items) {
        if (item.type != Type::kString) return wrong("an array of strings");
        if (Status s = layer->Set(key, item.text); !s.ok()) return s;
      }
      return Status::Ok();
  }
  return Status::Ok();
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The Gunicorn setting that names the app (not a row of the settings table).
constexpr const char* kGunicornApp = "wsgi_app";

// Gunicorn's settings wsgid has no equivalent for: a file that sets one gets a
// warning naming it. (The ones wsgid has are the table's gunicorn column.)
const std::vector<std::string>& UnsupportedGunicornSettings() {
  static const std::vector<std::string> names = {
      "worker_class",
      "worker_connections",
      "preload_app",
      "reload",
      "daemon",
      "proc_name",
      "statsd_host",
      "capture_output",
      "secure_scheme_headers",
      "sendfile",
      "reuse_port",
      "worker_tmp_dir",
      "spew",
      "check_config",
      "print_config",
      "logger_class",
      "logconfig",
      "syslog",
      "on_starting",
      "on_reload",
      "when_ready",
      "pre_fork",
      "post_fork",
      "post_worker_init",
      "worker_int",
      "worker_abort",
      "pre_exec",
      "pre_request",
      "post_request",
      "child_exit",
      "worker_exit",
      "nworkers_changed",
      "on_exit",
      "strip_header_spaces",
      "casefold_http_method",
      "permit_unconventional_http_method",
      "initgroups",
      "tmp_upload_dir",
      "paste",
      "raw_paste_global_conf",
      "enable_stdio_inheritance",
      "disable_redirect_access_to_syslog",
      "dogstatsd_tags",
      "statsd_prefix",
      "default_proc_name",
      "ssl_context",
      "threads_per_worker"};
  return names;
}

// The Gunicorn names the reader looks for: the app, the table's, the others.
std::vector<std::string> GunicornNames() {
  std::vector<std::string> names = {kGunicornApp};
  for (const Setting& setting : SettingsTable())
    if (!setting.gunicorn.empty()) names.push_back(setting.gunicorn);
  for (const std::string& name : UnsupportedGunicornSettings())
    names.push_back(name);
  return names;
}

const Setting* FindGunicornSetting(const std::string& name) {
  for (const Setting& setting : SettingsTable())
    if (setting.gunicorn == name) return &setting;
  return nullptr;
}

// A Python value as the text items ConfigLayer::Set takes; false when it has no
// such form (a dict, say).
bool GunicornItems(const nlohmann::json& value, const Setting& setting,
                   std::vector<std::string>* items) {
  if (value.is_array()) {
    for (const auto& item : value)
      items->push_back(item.is_string() ? item.get<std::string>()
                                        : item.dump());
  } else if (value.is_string()) {
    items->push_back(value.get<std::string>());
  } else if (value.is_boolean()) {
    items->push_back(value.get<bool>() ? "true" : "false");
  } else if (setting.field.octal && value.is_number_integer()) {
    char octal[16];  // Python read 0o027 as 23: write it in octal again
    std::snprintf(octal, sizeof octal, "0%o", value.get<unsigned>());
    items->push_back(octal);
  } else if (value.is_number()) {
    items->push_back(value.dump());
  } else {
    return false;
  }
  return true;
}

// Evaluated by /usr/bin/python3 with the file's path as argv[1]: prints the
// file's globals whose names are in argv[2:] as JSON (values JSON cannot hold
// become {"object": type}).
constexpr const char* kGunicornReader = R"PY(
import contextlib, json, runpy, sys
names = set(sys.argv[2:])
with contextlib.redirect_stdout(sys.stderr):  # the file's own prints stay out of the JSON
    scope = runpy.run_path(sys.argv[1])
out = {}
for name, value in scope.items():
    if name in names:
        try:
            json.dumps(value)
            out[name] = value
        except TypeError:  # a hook function, say: named, never used
            out[name] = {"object": type(value).__name__}
print(json.dumps(out))
)PY";

StatusOr<std::string> RunPython(const std::vector<std::string>& args) {
  std::string command = "'" WSGID_PYTHON_EXECUTABLE "' -c \"$WSGID_READER\"";
  for (const std::string& a : args) {
    std::string quoted;
    for (char c : a)
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += " '" + quoted + "'";
  }
  ::setenv("WSGID_READER", kGunicornReader, 1);
  FILE* pipe = ::popen(command.c_str(), "r");
  ::unsetenv("WSGID_READER");
  if (pipe == nullptr) return Status::FromErrno("cannot run python", errno);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::InvalidArgument(
        "evaluating it failed (its Python error is above)");
  return out;
}

}  // namespace

Status ApplyToml(const std::string& text, const std::string& origin,
                 Config* config) {
  TomlReader reader(text);
  ConfigLayer layer(config);
  while (true) {
    std::string key;
    TomlValue value;
    bool done = false;
    Status s = reader.Next(&key, &value, &done);
    if (s.ok() && !done) {
      if (key == "app") {
        if (value.type != TomlValue::Type::kString)
          s = Status::InvalidArgument("'app' must be a string");
        else
          config->app = value.text;
      } else {
        s = ApplyTyped(&layer, key, value);
      }
      if (!s.ok())
        s = Status::InvalidArgument("line " + std::to_string(reader.line()) +
                                    ": " + s.message());
    }
    if (!s.ok())
      return Status::InvalidArgument(origin + ":" + s.message().substr(5));
    if (done) return Status::Ok();
  }
}

Status ApplyTomlFile(const std::string& path, Config* config) {
  std::ifstream in(path);
  if (!in) return Status::FromErrno("cannot read config file " + path, errno);
  std::stringstream text;
  text << in.rdbuf();
  return ApplyToml(text.str(), path, config);
}

Status ApplyGunicornFile(const std::string& path, Config* config,
                         std::vector<std::string>* warnings) {
  std::vector<std::string> names = GunicornNames();
  std::vector<std::string> args = {path};
  args.insert(args.end(), names.begin(), names.end());
  auto out = RunPython(args);
  if (!out.ok())
    return Status::InvalidArgument("config file " + path + ": " +
                                   out.status().message());
  nlohmann::json settings;
  try {
    settings = nlohmann::json::parse(*out);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("config file " + path +
                                   ": unreadable output: " + e.what());
  }
  ConfigLayer layer(config);
  for (const std::string& name : names) {
    if (!settings.contains(name)) continue;
    const nlohmann::json& value = settings[name];
    if (value.is_null())
      continue;  // None: Gunicorn's "not set", the default applies
    if (name == kGunicornApp && value.is_string()) {
      config->app = value.get<std::string>();
      continue;
    }
    const Setting* setting = FindGunicornSetting(name);
    if (setting == nullptr) {
      // issue 17: the ssl_context hook would run Python in the master.
      const char* why =
          name == "ssl_context"
              ? "; ignored: wsgid builds its TLS context from certfile, "
                "keyfile, ca_certs, cert_reqs, ciphers and --ssl-min-version"
              : "; ignored";
      warnings->push_back(path + ": Gunicorn setting '" + name +
                          "' is not supported by wsgid" + why);
      continue;
    }
    std::vector<std::string> items;
    if (!GunicornItems(value, *setting, &items))
      return Status::InvalidArgument("config file " + path + ": '" + name +
                                     "' has an unusable value");
    std::string key = SettingKey(*setting);
    if (value.is_array()) layer.Clear(key);
    for (const std::string& item : items) {
      if (Status s = layer.Set(key, item); !s.ok())
        return Status::InvalidArgument("config file " + path + ": '" + name +
                                       "': " + s.message());
    }
  }
  return Status::Ok();
}

Status ApplyEnvironment(char** environ, Config* config) {
  ConfigLayer layer(config);
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.rfind("WSGID_", 0) != 0) continue;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string key = entry.substr(6, eq - 6);
    for (char& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!ConfigLayer::KindOf(key).ok())
      continue;  // not a setting (WSGID_BIN_DIR, ...)
    if (Status s = layer.Set(key, entry.substr(eq + 1)); !s.ok())
      return Status::InvalidArgument("environment " + entry.substr(0, eq) +
                                     ": " + s.message());
  }
  return Status::Ok();
}

StatusOr<Config> LoadConfig(const std::vector<std::string>& args,
                            char** environ,
                            std::vector<std::string>* warnings) {
  // The command line names the file; parse it once for that and its errors.
  auto first = ParseCommandLine(args);
  if (!first.ok()) return first.status();
  Config base;
  const std::string& file = first->config_file;
  if (!file.empty()) {
    Status s = EndsWith(file, ".py") ? ApplyGunicornFile(file, &base, warnings)
                                     : ApplyTomlFile(file, &base);
    if (!s.ok()) return s;
  }
  if (Status s = ApplyEnvironment(environ, &base); !s.ok()) return s;
  auto config = ParseCommandLine(args, base);
  if (!config.ok() || config->workers != 0) return config;
  auto workers = DefaultWorkers(*config, environ);
  if (!workers.ok()) return workers.status();
  config->workers = *workers;
  return config;
}

StatusOr<int> DefaultWorkers(const Config& config, char** environ) {
  int workers = 2 * AvailableCores() + 1;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    constexpr std::string_view kName = "WEB_CONCURRENCY=";
    if (entry.substr(0, kName.size()) != kName) continue;
    std::string_view digits = entry.substr(kName.size());
    auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), workers);
    if (error != std::errc() || end != digits.data() + digits.size() ||
        workers < 1)
      return Status::InvalidArgument("environment WEB_CONCURRENCY: '" +
                                     std::string(digits) +
                                     "' is not a positive number of workers");
  }
  if (config.autoscale) workers = std::max(workers, config.min_workers);
  return std::clamp(workers, 1, config.max_workers);
}

}  // namespace wsgid
