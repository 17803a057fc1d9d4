#include "common/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

#include "common/log.h"
#include "common/scoreboard.h"

namespace wsgid {
namespace {

StatusOr<int64_t> ParseInt(const std::string& flag, const std::string& text,
                           int64_t min, int64_t max) {
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return Status::InvalidArgument(flag + ": '" + text + "' is not an integer");
  if (value < min || value > max)
    return Status::InvalidArgument(flag + ": " + text + " is out of range [" +
                         std::to_string(min) + ", " + std::to_string(max) +
                         "]");
  return static_cast<int64_t>(value);
}

StatusOr<double> ParseSeconds(const std::string& flag,
                              const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value < 0)
    return Status::InvalidArgument(flag + ": '" + text + "' is not a number of seconds");
  return value;
}

std::vector<std::string> SplitList(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// The shortest text that reads back as the same double.
std::string FormatSeconds(double s) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, s);
  return std::string(buf, result.ptr);
}

// One flag: its names, the kind of value it takes, and how it applies a value.
struct Flag {
  std::vector<std::string> names;
  ValueKind kind;
  std::function<Status(Config&, const std::string&)> apply;
  bool takes_value() const { return kind != ValueKind::kBool; }
  // Settings the master hands to its workers: never from a file or the
  // environment.
  bool internal() const { return names.back().rfind("--worker-", 0) == 0; }
};

template <typename T>
std::function<Status(Config&, const std::string&)> IntFlag(
    const std::string& name, T Config::*field, int64_t min, int64_t max) {
  return [=](Config& c, const std::string& v) -> Status {
    auto n = ParseInt(name, v, min, max);
    if (!n.ok()) return n.status();
    c.*field = static_cast<T>(*n);
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> SecondsFlag(
    const std::string& name, double Config::*field) {
  return [=](Config& c, const std::string& v) -> Status {
    auto s = ParseSeconds(name, v);
    if (!s.ok()) return s.status();
    c.*field = *s;
    return Status::Ok();
  };
}

// Bytes, or with a K, M or G suffix (powers of 1024): "200M", "1.5G".
std::function<Status(Config&, const std::string&)> SizeFlag(
    const std::string& name, int64_t Config::*field) {
  return [=](Config& c, const std::string& v) -> Status {
    char* end = nullptr;
    double n = std::strtod(v.c_str(), &end);
    std::string unit = end ? end : "";
    double scale = unit.empty()  ? 1
                   : unit == "K" ? 1024.0
                   : unit == "M" ? 1048576.0
                   : unit == "G" ? 1073741824.0
                                 : -1;
    // Finite and below 2^62 so the cast to int64_t is defined.
    if (v.empty() || end == v.c_str() || scale < 0 || !std::isfinite(n) ||
        n < 0 || n * scale > 4.6e18)
      return Status::InvalidArgument(name + ": '" + v +
                           "' is not a size like 512M or 2G");
    c.*field = static_cast<int64_t>(n * scale);
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> StringFlag(
    std::string Config::*field) {
  return [=](Config& c, const std::string& v) -> Status {
    c.*field = v;
    return Status::Ok();
  };
}

const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = {
      {{"-b", "--bind"},
       ValueKind::kList,
       [](Config& c, const std::string& v) {
         c.binds.push_back(v);
         return Status::Ok();
       }},
      {{"-w", "--workers"},
       ValueKind::kInt,
       IntFlag("--workers", &Config::workers, 1, 1024)},
      {{"--max-threads"},
       ValueKind::kInt,
       IntFlag("--max-threads", &Config::max_threads, 0, kMaxThreadsPerWorker)},
      {{"--threads"},
       ValueKind::kInt,
       IntFlag("--threads", &Config::threads, 1, kMaxThreadsPerWorker)},
      {{"--chdir"}, ValueKind::kString, StringFlag(&Config::chdir)},
      {{"--pythonpath"},
       ValueKind::kList,
       [](Config& c, const std::string& v) {
         for (auto& p : SplitList(v, ',')) c.pythonpath.push_back(p);
         return Status::Ok();
       }},
      {{"-e", "--env"},
       ValueKind::kList,
       [](Config& c, const std::string& v) {
         size_t eq = v.find('=');
         if (eq == std::string::npos || eq == 0)
           return Status::InvalidArgument("--env: '" + v + "' is not VAR=VALUE");
         c.env.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return Status::Ok();
       }},
      {{"-t", "--timeout"},
       ValueKind::kSeconds,
       SecondsFlag("--timeout", &Config::timeout)},
      {{"--graceful-timeout"},
       ValueKind::kSeconds,
       SecondsFlag("--graceful-timeout", &Config::graceful_timeout)},
      {{"--keep-alive"},
       ValueKind::kSeconds,
       SecondsFlag("--keep-alive", &Config::keep_alive)},
      {{"--request-timeout"},
       ValueKind::kSeconds,
       SecondsFlag("--request-timeout", &Config::request_timeout)},
      {{"--abort-grace"},
       ValueKind::kSeconds,
       SecondsFlag("--abort-grace", &Config::abort_grace)},
      {{"--max-workers"},
       ValueKind::kInt,
       IntFlag("--max-workers", &Config::max_workers, 1, 1024)},
      {{"--max-requests"},
       ValueKind::kInt,
       IntFlag("--max-requests", &Config::max_requests, 0, INT32_MAX)},
      {{"--max-requests-jitter"},
       ValueKind::kInt,
       IntFlag("--max-requests-jitter", &Config::max_requests_jitter, 0,
               INT32_MAX)},
      {{"-p", "--pid"}, ValueKind::kString, StringFlag(&Config::pidfile)},
      {{"-u", "--user"}, ValueKind::kString, StringFlag(&Config::user)},
      {{"-g", "--group"}, ValueKind::kString, StringFlag(&Config::group)},
      {{"-m", "--umask"},
       ValueKind::kString,
       [](Config& c, const std::string& v) {
         // Octal as Gunicorn reads it: "0o027", "027" or "0"; a TOML integer
         // arrives as decimal text, so it is read as written in octal too.
         std::string digits = v.rfind("0o", 0) == 0 ? v.substr(2) : v;
         char* end = nullptr;
         long mask = std::strtol(digits.c_str(), &end, 8);
         if (digits.empty() || *end != '\0' || mask < 0 || mask > 0777)
           return Status::InvalidArgument("--umask: '" + v +
                                "' is not an octal mask like 027");
         c.umask = static_cast<int>(mask);
         return Status::Ok();
       }},
      {{"--header-timeout"},
       ValueKind::kSeconds,
       SecondsFlag("--header-timeout", &Config::header_timeout)},
      {{"--io-timeout"},
       ValueKind::kSeconds,
       SecondsFlag("--io-timeout", &Config::io_timeout)},
      {{"--backlog"},
       ValueKind::kInt,
       IntFlag("--backlog", &Config::backlog, 1, 1 << 20)},
      {{"--limit-request-line"},
       ValueKind::kInt,
       IntFlag("--limit-request-line", &Config::limit_request_line, 0,
               1 << 20)},
      {{"--limit-request-fields"},
       ValueKind::kInt,
       IntFlag("--limit-request-fields", &Config::limit_request_fields, 1,
               32768)},
      {{"--limit-request-field-size"},
       ValueKind::kInt,
       IntFlag("--limit-request-field-size", &Config::limit_request_field_size,
               0, 1 << 20)},
      {{"--limit-request-body"},
       ValueKind::kInt,
       IntFlag("--limit-request-body", &Config::limit_request_body, -1,
               INT64_MAX)},
      {{"--header-map"},
       ValueKind::kString,
       [](Config& c, const std::string& v) {
         if (v == "drop") {
           c.header_map = HeaderMap::kDrop;
         } else if (v == "refuse") {
           c.header_map = HeaderMap::kRefuse;
         } else if (v == "dangerous") {
           c.header_map = HeaderMap::kDangerous;
         } else {
           return Status::InvalidArgument("--header-map: '" + v +
                                "' is not one of drop, refuse, dangerous");
         }
         return Status::Ok();
       }},
      {{"--permit-obsolete-folding"},
       ValueKind::kBool,
       [](Config& c, const std::string& v) {
         c.permit_obsolete_folding = v == "true";
         return Status::Ok();
       }},
      {{"--forwarded-allow-ips"},
       ValueKind::kList,
       [](Config& c, const std::string& v) {
         for (auto& ip : SplitList(v, ',')) c.forwarded_allow_ips.push_back(ip);
         return Status::Ok();
       }},
      {{"--root-path"},
       ValueKind::kString,
       [](Config& c, const std::string& v) {
         std::string p = v;
         while (!p.empty() && p.back() == '/') p.pop_back();
         if (!p.empty() && p[0] != '/')
           return Status::InvalidArgument("--root-path: '" + v + "' must start with /");
         c.root_path = p;
         return Status::Ok();
       }},
      {{"--access-logfile"},
       ValueKind::kString,
       StringFlag(&Config::access_logfile)},
      {{"--access-logformat"},
       ValueKind::kString,
       StringFlag(&Config::access_logformat)},
      {{"--error-logfile", "--log-file"},
       ValueKind::kString,
       StringFlag(&Config::error_logfile)},
      {{"--log-level"},
       ValueKind::kString,
       [](Config& c, const std::string& v) {
         auto level = ParseLogLevel(v);
         if (!level.ok())
           return Status::InvalidArgument("--log-level: " + level.status().message());
         c.log_level = v;
         return Status::Ok();
       }},
      {{"--server-header"},
       ValueKind::kString,
       StringFlag(&Config::server_header)},
      {{"-c", "--config"},
       ValueKind::kString,
       StringFlag(&Config::config_file)},
      {{"--ops-bind"}, ValueKind::kString, StringFlag(&Config::ops_bind)},
      {{"--control-socket"},
       ValueKind::kString,
       StringFlag(&Config::control_socket)},
      {{"--control-socket-mode"},
       ValueKind::kString,
       [](Config& c, const std::string& v) {
         char* end = nullptr;
         long mode = std::strtol(v.c_str(), &end, 8);
         if (v.empty() || *end != '\0' || (mode & ~0660) != 0 ||
             (mode & 0600) != 0600)
           return Status::InvalidArgument(
               "--control-socket-mode: '" + v +
               "' must be 0600 or 0660 (owner, optionally group)");
         c.control_socket_mode = static_cast<int>(mode);
         return Status::Ok();
       }},
      {{"--autoscale"},
       ValueKind::kBool,
       [](Config& c, const std::string& v) {
         c.autoscale = v == "true";
         return Status::Ok();
       }},
      {{"--min-workers"},
       ValueKind::kInt,
       IntFlag("--min-workers", &Config::min_workers, 1, 1024)},
      {{"--min-threads"},
       ValueKind::kInt,
       IntFlag("--min-threads", &Config::min_threads, 1, kMaxThreadsPerWorker)},
      {{"--max-memory"},
       ValueKind::kSize,
       SizeFlag("--max-memory", &Config::max_memory)},
      {{"--max-worker-memory"},
       ValueKind::kSize,
       SizeFlag("--max-worker-memory", &Config::max_worker_memory)},
      {{"--scale-down-window"},
       ValueKind::kSeconds,
       SecondsFlag("--scale-down-window", &Config::scale_down_window)},
      {{"--autoscale-tick"},
       ValueKind::kSeconds,
       SecondsFlag("--autoscale-tick", &Config::autoscale_tick)},
      {{"--control-bind"},
       ValueKind::kString,
       StringFlag(&Config::control_bind)},
      {{"--control-token-file"},
       ValueKind::kString,
       StringFlag(&Config::control_token_file)},
      {{"--check-config"},
       ValueKind::kBool,
       [](Config& c, const std::string& v) {
         c.check_config = v == "true";
         return Status::Ok();
       }},
      {{"--worker-listen-fds"},
       ValueKind::kList,
       [](Config& c, const std::string& v) {
         c.worker_listen_fds.clear();
         for (auto& item : SplitList(v, ',')) {
           auto fd = ParseInt("--worker-listen-fds", item, 0, 1 << 20);
           if (!fd.ok()) return fd.status();
           c.worker_listen_fds.push_back(static_cast<int>(*fd));
         }
         return Status::Ok();
       }},
      {{"--worker-ready-fd"},
       ValueKind::kInt,
       IntFlag("--worker-ready-fd", &Config::worker_ready_fd, 0, 1 << 20)},
      {{"--worker-id"},
       ValueKind::kInt,
       IntFlag("--worker-id", &Config::worker_id, 0, 1 << 20)},
      {{"--worker-scoreboard-fd"},
       ValueKind::kInt,
       IntFlag("--worker-scoreboard-fd", &Config::worker_scoreboard_fd, 0,
               1 << 20)},
  };
  return flags;
}

const Flag* FindFlag(const std::string& name) {
  for (const Flag& flag : Flags())
    for (const std::string& n : flag.names)
      if (n == name) return &flag;
  return nullptr;
}

// "graceful_timeout", "graceful-timeout" or "--graceful-timeout" -> its Flag.
const Flag* FindSetting(const std::string& key) {
  std::string name = key;
  while (!name.empty() && name[0] == '-') name.erase(0, 1);
  for (char& c : name)
    if (c == '_') c = '-';
  const Flag* flag = FindFlag("--" + name);
  return flag != nullptr && !flag->internal() ? flag : nullptr;
}

}  // namespace

StatusOr<ValueKind> ConfigLayer::KindOf(const std::string& key) {
  const Flag* flag = FindSetting(key);
  if (flag == nullptr) return Status::InvalidArgument("unknown setting '" + key + "'");
  return flag->kind;
}

void ConfigLayer::Clear(const std::string& key) {
  const Flag* flag = FindSetting(key);
  if (flag == nullptr || flag->kind != ValueKind::kList) return;
  if (std::find(lists_replaced_.begin(), lists_replaced_.end(), flag) ==
      lists_replaced_.end())
    lists_replaced_.push_back(flag);
  const std::string& name = flag->names.back();
  if (name == "--bind") config_->binds.clear();
  if (name == "--pythonpath") config_->pythonpath.clear();
  if (name == "--env") config_->env.clear();
  if (name == "--forwarded-allow-ips") config_->forwarded_allow_ips.clear();
}

Status ConfigLayer::Set(const std::string& key, const std::string& value) {
  const Flag* flag = FindSetting(key);
  if (flag == nullptr) return Status::InvalidArgument("unknown setting '" + key + "'");
  if (flag->kind == ValueKind::kBool && value != "true" && value != "false")
    return Status::InvalidArgument(key + ": expected true or false");
  // A list given by this source replaces what earlier sources said.
  if (flag->kind == ValueKind::kList &&
      std::find(lists_replaced_.begin(), lists_replaced_.end(), flag) ==
          lists_replaced_.end())
    Clear(key);
  return flag->apply(*config_, value);
}

StatusOr<Config> ParseCommandLine(const std::vector<std::string>& args,
                                  const Config& base) {
  Config config = base;
  ConfigLayer layer(&config);
  bool app_given = false;  // the command line's app replaces a config file's
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (app_given)
        return Status::InvalidArgument("unexpected argument '" + arg + "' (the app is '" +
                             config.app + "')");
      config.app = arg;
      app_given = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    bool has_inline_value = false;
    if (size_t eq = arg.find('=');
        arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_inline_value = true;
    } else if (arg[1] != '-' && arg.size() > 2) {
      // -w4, -b127.0.0.1:8000 (getopt style).
      name = arg.substr(0, 2);
      value = arg.substr(2);
      has_inline_value = true;
    }
    const Flag* flag = FindFlag(name);
    if (flag == nullptr) return Status::InvalidArgument("unknown option '" + name + "'");
    if (flag->takes_value() && !has_inline_value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument(name + " needs a value");
      value = args[++i];
    } else if (!flag->takes_value() && has_inline_value) {
      return Status::InvalidArgument(name + " takes no value");
    }
    Status s = flag->internal()      ? flag->apply(config, value)
               : flag->takes_value() ? layer.Set(flag->names.back(), value)
                                     : layer.Set(flag->names.back(), "true");
    if (!s.ok()) return s;
  }
  return config;
}

Status ValidateConfig(const Config& config) {
  if (config.app.empty())
    return Status::InvalidArgument("no application given (MODULE:CALLABLE)");
  if (config.app[0] == '-')
    return Status::InvalidArgument("application '" + config.app +
                         "' starts with '-' (a module name cannot)");
  size_t colon = config.app.find(':');
  std::string module = config.app.substr(0, colon);
  if (module.empty())
    return Status::InvalidArgument("application '" + config.app +
                         "' has no module (MODULE:CALLABLE)");
  if (colon != std::string::npos && colon + 1 == config.app.size())
    return Status::InvalidArgument("application '" + config.app +
                         "' has an empty callable name");
  if (config.workers < 0) return Status::InvalidArgument("--workers must be at least 1");
  if (config.max_threads != 0 && config.max_threads < config.threads)
    return Status::InvalidArgument("--max-threads " + std::to_string(config.max_threads) +
                         " is below --threads " +
                         std::to_string(config.threads));
  if (config.threads < 1 || config.threads > kMaxThreadsPerWorker)
    return Status::InvalidArgument("--threads must be between 1 and " +
                         std::to_string(kMaxThreadsPerWorker));
  for (double seconds :
       {config.timeout, config.graceful_timeout, config.keep_alive,
        config.header_timeout, config.io_timeout, config.request_timeout,
        config.abort_grace})
    if (!(seconds >= 0)) return Status::InvalidArgument("timeouts cannot be negative");
  if (config.timeout <= 0)
    return Status::InvalidArgument("--timeout must be greater than 0");
  if (config.limit_request_fields < 1)
    return Status::InvalidArgument("--limit-request-fields must be at least 1");
  if (config.limit_request_line < 0 || config.limit_request_field_size < 0)
    return Status::InvalidArgument("request limits cannot be negative");
  if (config.limit_request_body < -1)
    return Status::InvalidArgument("--limit-request-body must be -1 (unlimited) or more");
  for (const std::string& p : config.pythonpath)
    if (p.find(',') != std::string::npos)
      return Status::InvalidArgument("--pythonpath: '" + p +
                           "' contains a comma (the list separator)");
  if (config.workers > config.max_workers)
    return Status::InvalidArgument("--workers " + std::to_string(config.workers) +
                         " is above --max-workers " +
                         std::to_string(config.max_workers));
  return Status::Ok();
}

std::vector<std::string> ToArgs(const Config& c) {
  std::vector<std::string> a;
  auto add = [&a](const std::string& flag, const std::string& value) {
    a.push_back(flag + "=" + value);
  };
  for (const auto& b : c.binds) add("--bind", b);
  if (c.workers != 0) add("--workers", std::to_string(c.workers));
  add("--threads", std::to_string(c.threads));
  add("--max-threads", std::to_string(c.max_threads));
  if (!c.chdir.empty()) add("--chdir", c.chdir);
  for (const auto& p : c.pythonpath) add("--pythonpath", p);
  for (const auto& [k, v] : c.env) add("--env", k + "=" + v);
  add("--timeout", FormatSeconds(c.timeout));
  add("--graceful-timeout", FormatSeconds(c.graceful_timeout));
  add("--keep-alive", FormatSeconds(c.keep_alive));
  add("--request-timeout", FormatSeconds(c.request_timeout));
  add("--abort-grace", FormatSeconds(c.abort_grace));
  add("--max-workers", std::to_string(c.max_workers));
  add("--max-requests", std::to_string(c.max_requests));
  add("--max-requests-jitter", std::to_string(c.max_requests_jitter));
  if (!c.pidfile.empty()) add("--pid", c.pidfile);
  if (!c.user.empty()) add("--user", c.user);
  if (!c.group.empty()) add("--group", c.group);
  {
    char mask[8];
    std::snprintf(mask, sizeof mask, "0%o", static_cast<unsigned>(c.umask));
    add("--umask", mask);
  }
  add("--header-timeout", FormatSeconds(c.header_timeout));
  add("--io-timeout", FormatSeconds(c.io_timeout));
  add("--backlog", std::to_string(c.backlog));
  add("--limit-request-line", std::to_string(c.limit_request_line));
  add("--limit-request-fields", std::to_string(c.limit_request_fields));
  add("--limit-request-field-size", std::to_string(c.limit_request_field_size));
  add("--limit-request-body", std::to_string(c.limit_request_body));
  add("--header-map", c.header_map == HeaderMap::kDrop     ? "drop"
                      : c.header_map == HeaderMap::kRefuse ? "refuse"
                                                           : "dangerous");
  if (c.permit_obsolete_folding) a.push_back("--permit-obsolete-folding");
  std::string ips;
  for (const auto& ip : c.forwarded_allow_ips)
    ips += (ips.empty() ? "" : ",") + ip;
  add("--forwarded-allow-ips", ips);
  if (!c.root_path.empty()) add("--root-path", c.root_path);
  if (!c.access_logfile.empty()) add("--access-logfile", c.access_logfile);
  if (c.check_config) a.push_back("--check-config");
  add("--access-logformat", c.access_logformat);
  add("--error-logfile", c.error_logfile);
  add("--log-level", c.log_level);
  add("--server-header", c.server_header);
  if (!c.worker_listen_fds.empty()) {
    std::string fds;
    for (int fd : c.worker_listen_fds)
      fds += (fds.empty() ? "" : ",") + std::to_string(fd);
    add("--worker-listen-fds", fds);
  }
  if (c.worker_ready_fd >= 0)
    add("--worker-ready-fd", std::to_string(c.worker_ready_fd));
  add("--worker-id", std::to_string(c.worker_id));
  if (c.worker_scoreboard_fd >= 0)
    add("--worker-scoreboard-fd", std::to_string(c.worker_scoreboard_fd));
  a.push_back(c.app);
  return a;
}

std::string UsageText(const std::string& program) {
  return "usage: " + program +
         " [options] MODULE:CALLABLE\n"
         "\n"
         "Serves a Python WSGI application with a supervised pool of worker "
         "processes.\n"
         "\n"
         "  -b, --bind ADDRESS          HOST:PORT, [V6ADDR]:PORT or unix:/path "
         "(repeatable;\n"
         "                              default 127.0.0.1:8000)\n"
         "  -w, --workers N             worker processes (default $WEB_CONCURRENCY, else\n"
         "                              2 x cores + 1; cores from the cgroup)\n"
         "      --threads N             app threads per worker (default 1)\n"
         "      --max-threads N         how far the thread count may be raised "
         "at run\n"
         "                              time (default: --threads)\n"
         "      --chdir DIR             change to DIR before loading the app\n"
         "      --pythonpath DIRS       comma-separated dirs prepended to "
         "sys.path\n"
         "  -e, --env VAR=VALUE         set an environment variable for the "
         "workers\n"
         "  -t, --timeout S             a worker silent this long, or with "
         "every thread in\n"
         "                              one request this long, is killed "
         "(default 30)\n"
         "      --request-timeout S     kill a worker with a request this long "
         "(default off)\n"
         "      --abort-grace S         SIGABRT (stack dump) to SIGKILL "
         "(default 1)\n"
         "      --max-workers N         upper bound of the pool (default 32)\n"
         "      --max-requests N        replace a worker after N requests "
         "(default off)\n"
         "      --max-requests-jitter N plus a random 0..N per worker\n"
         "  -p, --pid FILE              write the master's pid there\n"
         "  -u, --user USER             run the workers as this user\n"
         "  -g, --group GROUP           ... and group\n"
         "  -m, --umask MASK            file mode mask, octal (default 0)\n"
         "  -c, --config FILE           wsgid.toml, or a gunicorn.conf.py\n"
         "      --ops-bind HOST:PORT    /livez /readyz /metrics (default "
         "127.0.0.1:9180;\n"
         "                              off: none)\n"
         "      --control-socket PATH   control API socket (default "
         "/run/wsgid.sock as root,\n"
         "                              else $XDG_RUNTIME_DIR/wsgid.sock or\n"
         "                              /tmp/wsgid-UID.sock; off: none)\n"
         "      --control-socket-mode M 0600 (default) or 0660\n"
         "      --control-bind HOST:PORT  control API on TCP too (needs a "
         "token file)\n"
         "      --control-token-file F  bearer token for --control-bind\n"
         "      --autoscale             tune workers and threads from measured "
         "load\n"
         "      --min-workers N, --min-threads N  the scaler's floors (default "
         "1)\n"
         "      --max-memory SIZE       workers' total PSS budget (e.g. 2G; "
         "default: 80%\n"
         "                              of the cgroup's memory limit, if any)\n"
         "      --max-worker-memory SIZE  replace a worker whose RSS is above "
         "SIZE\n"
         "                              (e.g. 200M), gracefully (default off)\n"
         "      --scale-down-window S   underuse before shrinking (default "
         "30)\n"
         "      --autoscale-tick S      how often the scaler looks (default "
         "1)\n"
         "      --graceful-timeout S    time to finish requests on stop "
         "(default 30)\n"
         "      --keep-alive S          idle keep-alive connection lifetime "
         "(default 2)\n"
         "      --header-timeout S      time to receive a request head "
         "(default 30)\n"
         "      --io-timeout S          stalled body read / response write "
         "(default 30)\n"
         "      --backlog N             listen backlog (default 2048)\n"
         "      --limit-request-line N  longest request line, 0 = unlimited "
         "(default 4094)\n"
         "      --limit-request-fields N  most header fields (default 100)\n"
         "      --limit-request-field-size N  longest header field (default "
         "8190)\n"
         "      --limit-request-body BYTES  largest request body (default "
         "unlimited)\n"
         "      --header-map MODE       headers with '_': drop (default), "
         "refuse, dangerous\n"
         "      --permit-obsolete-folding  accept obs-fold header continuation "
         "lines\n"
         "      --forwarded-allow-ips LIST  proxies trusted for X-Forwarded-* "
         "(default\n"
         "                              127.0.0.1,::1)\n"
         "      --root-path PREFIX      SCRIPT_NAME the app is mounted at\n"
         "      --access-logfile FILE   access log ('-' = stdout; default "
         "off)\n"
         "      --access-logformat FMT  Gunicorn access log format\n"
         "      --error-logfile FILE    error log ('-' = stderr, the default)\n"
         "      --log-level LEVEL       debug, info, warning, error, critical "
         "(default info)\n"
         "      --server-header TEXT    Server response header (default wsgid; "
         "empty: none)\n"
         "      --check-config          validate the configuration and exit\n"
         "  -h, --help                  this text\n"
         "      --version               print the version\n";
}

}  // namespace wsgid
