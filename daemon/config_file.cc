#include "daemon/config_file.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "common/virtualenv.h"
#include "daemon/host_limits.h"
#include "daemon/log_config.h"
#include "daemon/toml_reader.h"

extern char** environ;

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

// `path` made absolute: the workers read the hooks file after --chdir.
std::string AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// The virtualenv path made absolute against the master's working directory
// (the master never changes it: a reload resolves it the same way) and
// normalised, so that a worker checks the same folder after its --chdir.
std::string AbsoluteVirtualenv(const std::string& path) {
  std::string absolute = AbsolutePath(path);
  // Still relative only when the working directory could not be read.
  if (absolute.empty() || absolute[0] != '/') return absolute;
  return AbsolutePathFrom(absolute, "/");
}

// What runs a gunicorn.conf.py: the virtualenv's python when `virtualenv` is
// one (the file may import what only the app's venv has), else the Python
// the worker embeds. A path that is no virtualenv falls back to the latter,
// and the start-up check then says what is wrong with it.
std::string ReaderPython(const std::string& virtualenv) {
  if (!virtualenv.empty() &&
      ::access((virtualenv + "/pyvenv.cfg").c_str(), F_OK) == 0) {
    std::string python = VirtualenvPython(virtualenv);
    if (::access(python.c_str(), X_OK) == 0) return python;
  }
  return WSGID_PYTHON_EXECUTABLE;
}

// The Gunicorn setting that names the app (not a row of the settings table).
constexpr const char* kGunicornApp = "wsgi_app";

// Gunicorn's ssl_context hook: the one Gunicorn setting that is not a row,
// since it would run Python in the master to build the TLS context (issue 17).
constexpr const char* kGunicornSslContext = "ssl_context";

// issue 15: Gunicorn's server hooks, all run (worker/server_hooks.h,
// daemon/master_hooks.h): a file that defines one is handed to the workers and
// the hook helper, which read it themselves.
const std::vector<std::string>& GunicornHookNames() {
  static const std::vector<std::string> names = {
      "on_starting", "on_reload",        "when_ready",   "pre_fork",
      "post_fork",   "post_worker_init", "worker_int",   "worker_abort",
      "pre_exec",    "pre_request",      "post_request", "child_exit",
      "worker_exit", "nworkers_changed", "on_exit"};
  return names;
}

bool IsGunicornHook(const std::string& name) {
  const auto& hooks = GunicornHookNames();
  return std::find(hooks.begin(), hooks.end(), name) != hooks.end();
}

// The row a gunicorn.conf.py key names: Gunicorn's name, or wsgid's own key
// (what --print-config writes for wsgid's settings).
const Setting* FindGunicornSetting(const std::string& name) {
  for (const Setting& setting : SettingsTable())
    if (setting.gunicorn == name) return &setting;
  const Setting* own = FindSettingByKey(name);
  return own != nullptr && own->gunicorn.empty() ? own : nullptr;
}

// A Python value as the text items ConfigLayer::Set takes; false when it has no
// such form (a dict, say).
bool GunicornItems(const nlohmann::json& value, const Setting& setting,
                   std::vector<std::string>* items) {
  if (value.is_array()) {
    for (const auto& item : value)
      items->push_back(item.is_string() ? item.get<std::string>()
                                        : item.dump());
  } else if (value.is_object() && setting.field.kind == ValueKind::kString) {
    items->push_back(value.dump());  // logconfig_dict: its JSON text
  } else if (value.is_object() && !value.contains("object")) {
    for (const auto& [k, v] : value.items())  // secure_scheme_headers
      items->push_back(k + "=" +
                       (v.is_string() ? v.get<std::string>() : v.dump()));
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
  } else if (value.is_object() && setting.field.kind == ValueKind::kString) {
    items->push_back(value.dump());  // logconfig_dict: its JSON text
  } else {
    return false;
  }
  return true;
}

// Evaluated by the build's python3 with the file's path (or python:MODULE) as
// argv[1]: prints the file's globals as JSON (values JSON cannot hold become
// {"object": type}), leaving out modules, names starting with '_', and
// functions and classes it imported rather than defined.
constexpr const char* kGunicornReader = R"PY(
import contextlib, importlib, json, os, runpy, sys, types
with contextlib.redirect_stdout(sys.stderr):  # the file's own prints stay out of the JSON
    if sys.argv[1].startswith("python:"):
        sys.path.insert(0, os.getcwd())
        scope = vars(importlib.import_module(sys.argv[1][7:]))
    else:
        scope = runpy.run_path(sys.argv[1])
here = scope.get("__name__")
out = {}
for name, value in scope.items():
    if name.startswith("_") or isinstance(value, types.ModuleType):
        continue
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)) \
            and getattr(value, "__module__", here) != here:
        continue
    try:
        json.dumps(value)
        out[name] = value
    except (TypeError, ValueError):  # a hook function, say
        out[name] = {"object": type(value).__name__}
print(json.dumps(out))
)PY";

// Runs the reader with posix_spawn and an argv of its own: the master's
// environment is never touched (setenv here would free the environ array a
// caller, or another thread, is reading).
StatusOr<std::string> RunPython(const std::string& python,
                                const std::string& file) {
  std::vector<std::string> words = {python, "-c", kGunicornReader, file};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0)
    return Status::FromErrno("cannot run python", errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t pid = -1;
  int err =
      ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), ::environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while (err == 0 && ((n = ::read(out[0], buf, sizeof buf)) > 0 ||
                      (n < 0 && errno == EINTR)))
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  if (err != 0) return Status::FromErrno("cannot run python", err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::InvalidArgument(
        "evaluating it failed (its Python error is above)");
  return text;
}

// Applies one key of a gunicorn.conf.py: a setting, or a warning naming it.
Status ApplyGunicornKey(const std::string& path, const std::string& name,
                        const nlohmann::json& value, ConfigLayer* layer,
                        Config* config, std::vector<std::string>* warnings) {
  if (value.is_null()) return Status::Ok();  // None: Gunicorn's "not set"
  if (name == kGunicornApp && value.is_string()) {
    config->app = value.get<std::string>();
    config->sources["app"] = "file";
    return Status::Ok();
  }
  if (IsGunicornHook(name)) {  // a function: the reader names its type
    if (value.is_object())
      config->worker_hooks_file =
          path.rfind("python:", 0) == 0 ? path : AbsolutePath(path);
    return Status::Ok();
  }
  const Setting* setting = FindGunicornSetting(name);
  if (setting == nullptr) {
    warnings->push_back(
        path + ": '" + name + "' " +
        (name == kGunicornSslContext
             ? "is ignored: wsgid builds its TLS context from certfile, "
               "keyfile, ca_certs, cert_reqs, ciphers and --ssl-min-version"
             : "is neither a Gunicorn setting nor a server hook; ignored"));
    return Status::Ok();
  }
  std::vector<std::string> items;
  if (!GunicornItems(value, *setting, &items))
    return Status::InvalidArgument("config file " + path + ": '" + name +
                                   "' has an unusable value");
  std::string key = SettingKey(*setting);
  if (setting->field.kind == ValueKind::kList) layer->Clear(key);
  for (const std::string& item : items) {
    if (Status s = layer->Set(key, item); !s.ok())
      return Status::InvalidArgument("config file " + path + ": '" + name +
                                     "': " + s.message());
  }
  return Status::Ok();
}

// ./gunicorn.conf.py, read when no -c is given (Gunicorn's default).
constexpr const char* kDefaultGunicornFile = "gunicorn.conf.py";

// The value of `name` in `environ`, or null.
const char* FindEnv(char** environ, std::string_view name) {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.size() > name.size() && entry[name.size()] == '=' &&
        entry.substr(0, name.size()) == name)
      return *e + name.size() + 1;
  }
  return nullptr;
}

// Words as a POSIX shell splits them (Python's shlex.split, which Gunicorn
// uses for GUNICORN_CMD_ARGS): blanks separate, quotes and backslashes quote.
StatusOr<std::vector<std::string>> SplitShellWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        word += c;
    } else if (c == '\\' && quote == 0 && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (quote == '"') {
      if (c == '"')
        quote = 0;
      else if (c == '\\' && i + 1 < text.size() &&
               std::strchr("\\\"$`", text[i + 1]) != nullptr)
        word += text[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) return Status::InvalidArgument("unclosed quotation");
  if (in_word) words.push_back(word);
  return words;
}

// -c FILE: python:MODULE and *.py are Gunicorn's, the rest wsgid.toml.
Status ApplyConfigFile(const std::string& file, const std::string& virtualenv,
                       Config* config, std::vector<std::string>* warnings) {
  std::string path = file.rfind("file:", 0) == 0 ? file.substr(5) : file;
  if (path.rfind("python:", 0) == 0 || EndsWith(path, ".py"))
    return ApplyGunicornFile(path, config, warnings, virtualenv);
  return ApplyTomlFile(path, config);
}

// The virtualenv known before the config file is read: the command line's,
// GUNICORN_CMD_ARGS', WSGID_VIRTUALENV, else `fallback` ($VIRTUAL_ENV or the
// one wsgid is installed in). A gunicorn.conf.py names none (Gunicorn has no
// such setting), so this is the one the app gets unless a wsgid.toml says.
std::string EarlyVirtualenv(const Config& command_line,
                            const std::string& env_args_virtualenv,
                            char** environ, const std::string& fallback) {
  if (!command_line.virtualenv.empty()) return command_line.virtualenv;
  if (!env_args_virtualenv.empty()) return env_args_virtualenv;
  const char* setting = FindEnv(environ, "WSGID_VIRTUALENV");
  if (setting != nullptr && *setting != '\0') return setting;
  return fallback;
}

}  // namespace

Status ApplyToml(const std::string& text, const std::string& origin,
                 Config* config) {
  TomlReader reader(text);
  ConfigLayer layer(config, "file");
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
          config->app = value.text, config->sources["app"] = "file";
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
                         std::vector<std::string>* warnings,
                         const std::string& virtualenv) {
  auto out = RunPython(ReaderPython(virtualenv), path);
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
  ConfigLayer layer(config, "file");
  for (const auto& [name, value] : settings.items())
    if (Status s =
            ApplyGunicornKey(path, name, value, &layer, config, warnings);
        !s.ok())
      return s;
  return Status::Ok();
}

Status ApplyEnvironment(char** environ, Config* config) {
  ConfigLayer layer(config, "environment");
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

std::string DefaultVirtualenv(char** environ, const std::string& installed_in) {
  const char* virtual_env = FindEnv(environ, "VIRTUAL_ENV");
  if (virtual_env != nullptr && *virtual_env != '\0') return virtual_env;
  return installed_in;
}

StatusOr<Config> LoadConfig(const std::vector<std::string>& args,
                            char** environ, std::vector<std::string>* warnings,
                            const std::string& installed_in) {
  // The command line names the file; parse it once for that and its errors.
  auto first = ParseCommandLine(args);
  if (!first.ok()) return first.status();
  // Gunicorn's GUNICORN_CMD_ARGS: flags between the environment and argv.
  std::vector<std::string> env_args;
  std::string env_virtualenv;
  if (const char* cmd = FindEnv(environ, "GUNICORN_CMD_ARGS")) {
    auto words = SplitShellWords(cmd);
    auto parsed = words.ok() ? ParseCommandLine(*words) : words.status();
    if (!parsed.ok())
      return Status::InvalidArgument("environment GUNICORN_CMD_ARGS: " +
                                     parsed.status().message());
    env_args = *words;
    if (first->config_file.empty()) first->config_file = parsed->config_file;
    env_virtualenv = parsed->virtualenv;
  }
  std::string default_virtualenv = DefaultVirtualenv(environ, installed_in);
  std::string early_virtualenv = AbsoluteVirtualenv(
      EarlyVirtualenv(*first, env_virtualenv, environ, default_virtualenv));
  Config base;
  std::string file = first->config_file;
  if (file.empty() && ::access(kDefaultGunicornFile, R_OK) == 0)
    file = kDefaultGunicornFile;  // as Gunicorn, when no -c is given
  if (!file.empty())
    if (Status s = ApplyConfigFile(file, early_virtualenv, &base, warnings);
        !s.ok())
      return s;
  if (Status s = ApplyEnvironment(environ, &base); !s.ok()) return s;
  if (!env_args.empty()) {
    auto with_env = ParseCommandLine(env_args, base, "environment");
    if (!with_env.ok()) return with_env.status();
    base = *with_env;
  }
  auto config = ParseCommandLine(args, base);
  if (!config.ok()) return config;
  if (Status s = ApplyLogConfig(&*config); !s.ok())
    return s;  // issue 18: --log-config and kin
  if (config->virtualenv.empty() && !default_virtualenv.empty()) {
    config->virtualenv = default_virtualenv;
    if (default_virtualenv != installed_in)  // else it stays a "default"
      config->sources["virtualenv"] = "environment";
  }
  config->virtualenv = AbsoluteVirtualenv(config->virtualenv);
  const char* port = FindEnv(environ, "PORT");
  if (config->binds.empty() && port != nullptr && *port != '\0') {
    config->binds = {std::string("0.0.0.0:") + port};  // Heroku's PORT
    config->sources["bind"] = "environment";
  }
  if (config->workers != 0) return config;
  auto workers = DefaultWorkers(*config, environ);
  if (!workers.ok()) return workers.status();
  config->workers = *workers;
  if (FindEnv(environ, "WEB_CONCURRENCY") != nullptr)
    config->sources["workers"] = "environment";
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
