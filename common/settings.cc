#include "common/settings.h"

#include <cctype>
#include <cstdlib>

#include "common/config.h"
#include "common/gunicorn_rows.h"
#include "common/log.h"
#include "common/scoreboard.h"
#include "common/setting_fields.h"
#include "common/syslog_sink.h"
#include "common/tls_settings.h"

namespace wsgid {
namespace {

// The `internal` column.
constexpr bool kPublic = false;
constexpr bool kInternal = true;
constexpr int64_t kMaxFd = 1 << 20;

// --root-path: "/app/" is stored as "/app", "/" as "" (the root).
StatusOr<std::string> CheckRootPath(const std::string& value) {
  std::string path = value;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!path.empty() && path[0] != '/')
    return Status::InvalidArgument("'" + value + "' must start with /");
  return path;
}

StatusOr<std::string> CheckLogLevel(const std::string& value) {
  auto level = ParseLogLevel(value);
  if (!level.ok()) return Status::InvalidArgument(level.status().message());
  return value;
}

// issue 18: logging settings' checks.
StatusOr<std::string> CheckLogFormat(const std::string& value) {
  auto format = ParseLogFormat(value);
  if (!format.ok()) return format.status();
  return value;
}

StatusOr<std::string> CheckSyslogAddr(const std::string& value) {
  if (Status s = CheckSyslogAddress(value); !s.ok()) return s;
  return value;
}

StatusOr<std::string> CheckSyslogFacility(const std::string& value) {
  auto facility = ParseSyslogFacility(value);
  if (!facility.ok()) return facility.status();
  return value;
}

// wsgid's logging is C++: a Python Logger subclass has nothing to subclass.
StatusOr<std::string> CheckLoggerClass(const std::string& value) {
  if (value == "gunicorn.glogging.Logger" || value == "glogging.Logger" ||
      value == "simple")
    return value;
  return Status::InvalidArgument(
      "'" + value +
      "' is refused: wsgid's logging is not Python, so a Logger class cannot "
      "replace it; use --log-format json, --log-syslog or --log-config for "
      "what custom loggers usually do");
}

// Octal as Gunicorn reads it: "0o027", "027" or "0". (The gunicorn.conf.py
// reader turns a Python integer such as 0o027 into octal text first.)
StatusOr<int> ReadUmask(const std::string& value) {
  std::string digits = value.rfind("0o", 0) == 0 ? value.substr(2) : value;
  char* end = nullptr;
  long mask = std::strtol(digits.c_str(), &end, 8);
  if (digits.empty() || *end != '\0' || mask < 0 || mask > 0777)
    return Status::InvalidArgument("'" + value +
                                   "' is not an octal mask like 027");
  return static_cast<int>(mask);
}

// The control socket is the owner's, optionally shared with the group.
StatusOr<int> ReadSocketMode(const std::string& value) {
  char* end = nullptr;
  long mode = std::strtol(value.c_str(), &end, 8);
  if (value.empty() || *end != '\0' || (mode & ~0660) != 0 ||
      (mode & 0600) != 0600)
    return Status::InvalidArgument(
        "'" + value + "' must be 0600 or 0660 (owner, optionally group)");
  return static_cast<int>(mode);
}

// issue 17: "true" or "false" (suppress_ragged_eofs, a default-on setting).
StatusOr<std::string> CheckBoolText(const std::string& value) {
  if (value == "true" || value == "false") return value;
  return Status::InvalidArgument("'" + value + "' is not true or false");
}

// The table. Columns: flag, other command-line names, gunicorn.conf.py name,
// who reads it, internal, --help value name, --help text, example, field.
std::vector<Setting> BuildTable() {
  const int kThreads = kMaxThreadsPerWorker;
  using N = Needs;
  // clang-format off
  std::vector<Setting> table = {
      {"--bind", {"-b"}, "bind", N::kBoth, kPublic, "ADDRESS",
       "HOST:PORT, [V6ADDR]:PORT or unix:/path (repeatable;\n"
       "default 127.0.0.1:8000)",
       "127.0.0.1:8001", ListField(&Config::binds)},
      {"--workers", {"-w"}, "workers", N::kBoth, kPublic, "N",
       "worker processes (default $WEB_CONCURRENCY, else\n"
       "2 x cores + 1; cores from the cgroup)",
       "7", IntField(&Config::workers, 1, 1024)},
      {"--threads", {}, "threads", N::kBoth, kPublic, "N",
       "app threads per worker (default 1)",
       "16", IntField(&Config::threads, 1, kThreads)},
      {"--max-threads", {}, "", N::kBoth, kPublic, "N",
       "how far the thread count may be raised at run\n"
       "time (default: --threads)",
       "24", IntField(&Config::max_threads, 0, kThreads)},
      {"--chdir", {}, "chdir", N::kWorker, kPublic, "DIR",
       "change to DIR before loading the app",
       "/srv/app dir", TextField(&Config::chdir)},
      // The master passes -e to its workers through their environment (never
      // their argv, which any local user can read); a standalone worker reads
      // it from its own command line.
      {"--pythonpath", {}, "pythonpath", N::kWorker, kPublic, "DIRS",
       "comma-separated dirs prepended to sys.path",
       "/srv/lib,/opt/lib", CommaListField(&Config::pythonpath)},
      {"--env", {"-e"}, "raw_env", N::kBoth, kPublic, "VAR=VALUE",
       "set an environment variable for the workers",
       "EQ=a=b", EnvField()},
      {"--timeout", {"-t"}, "timeout", N::kMaster, kPublic, "S",
       "a worker silent this long, or with every thread in\n"
       "one request this long, is killed (default 30)",
       "45.5", SecondsField(&Config::timeout)},
      {"--request-timeout", {}, "", N::kMaster, kPublic, "S",
       "kill a worker with a request this long (default off)",
       "90", SecondsField(&Config::request_timeout)},
      {"--abort-grace", {}, "", N::kMaster, kPublic, "S",
       "SIGABRT (stack dump) to SIGKILL (default 1)",
       "2.5", SecondsField(&Config::abort_grace)},
      {"--max-workers", {}, "", N::kMaster, kPublic, "N",
       "upper bound of the pool (default 32)",
       "40", IntField(&Config::max_workers, 1, 1024)},
      {"--max-requests", {}, "max_requests", N::kMaster, kPublic, "N",
       "replace a worker after N requests (default off)",
       "1000", IntField(&Config::max_requests, 0, INT32_MAX)},
      {"--max-requests-jitter", {}, "max_requests_jitter", N::kMaster, kPublic,
       "N",
       "plus a random 0..N per worker",
       "50", IntField(&Config::max_requests_jitter, 0, INT32_MAX)},
      {"--pid", {"-p"}, "pidfile", N::kMaster, kPublic, "FILE",
       "write the master's pid there",
       "/run/wsgid.pid", TextField(&Config::pidfile)},
      {"--user", {"-u"}, "user", N::kBoth, kPublic, "USER",
       "run the workers as this user",
       "www-data", TextField(&Config::user)},
      {"--group", {"-g"}, "group", N::kBoth, kPublic, "GROUP",
       "... and group",
       "www-data", TextField(&Config::group)},
      {"--umask", {"-m"}, "umask", N::kBoth, kPublic, "MASK",
       "file mode mask, octal (default 0)",
       "027", OctalField(&Config::umask, ReadUmask)},
      {"--config", {"-c"}, "config", N::kMaster, kPublic, "FILE",
       "wsgid.toml, or a gunicorn.conf.py",
       "/etc/wsgid.toml", TextField(&Config::config_file)},
      {"--ops-bind", {}, "", N::kMaster, kPublic, "HOST:PORT",
       "/livez /readyz /metrics (default 127.0.0.1:9180;\n"
       "off: none)",
       "off", TextField(&Config::ops_bind)},
      {"--control-socket", {}, "", N::kMaster, kPublic, "PATH",
       "control API socket (default /run/wsgid.sock as root,\n"
       "else $XDG_RUNTIME_DIR/wsgid.sock or\n"
       "/tmp/wsgid-UID.sock; off: none)",
       "/run/app.sock", TextField(&Config::control_socket)},
      {"--control-socket-mode", {}, "", N::kMaster, kPublic, "M",
       "0600 (default) or 0660",
       "0660", OctalField(&Config::control_socket_mode, ReadSocketMode)},
      {"--control-bind", {}, "", N::kMaster, kPublic, "HOST:PORT",
       "control API on TCP too (needs a token file)",
       "127.0.0.1:9181", TextField(&Config::control_bind)},
      {"--control-token-file", {}, "", N::kMaster, kPublic, "F",
       "bearer token for --control-bind",
       "/etc/wsgid.token", TextField(&Config::control_token_file)},
      {"--autoscale", {}, "", N::kMaster, kPublic, "",
       "tune workers and threads from measured load",
       "true", SwitchField(&Config::autoscale)},
      {"--min-workers", {}, "", N::kMaster, kPublic, "N",
       "the scaler's floors (default 1)",
       "2", IntField(&Config::min_workers, 1, 1024)},
      {"--min-threads", {}, "", N::kMaster, kPublic, "N",
       "the scaler's floors (default 1)",
       "2", IntField(&Config::min_threads, 1, kThreads)},
      {"--max-memory", {}, "", N::kMaster, kPublic, "SIZE",
       "workers' total PSS budget (e.g. 2G; default: 80%\n"
       "of the cgroup's memory limit, if any)",
       "2G", SizeField(&Config::max_memory)},
      {"--max-worker-memory", {}, "", N::kMaster, kPublic, "SIZE",
       "replace a worker whose RSS is above SIZE\n"
       "(e.g. 200M), gracefully (default off)",
       "200M", SizeField(&Config::max_worker_memory)},
      {"--scale-down-window", {}, "", N::kMaster, kPublic, "S",
       "underuse before shrinking (default 30)",
       "60", SecondsField(&Config::scale_down_window)},
      {"--autoscale-tick", {}, "", N::kMaster, kPublic, "S",
       "how often the scaler looks (default 1)",
       "0.5", SecondsField(&Config::autoscale_tick)},
      {"--graceful-timeout", {}, "graceful_timeout", N::kBoth, kPublic, "S",
       "time to finish requests on stop (default 30)",
       "12", SecondsField(&Config::graceful_timeout)},
      {"--keep-alive", {}, "keepalive", N::kWorker, kPublic, "S",
       "idle keep-alive connection lifetime (default 2)",
       "0.25", SecondsField(&Config::keep_alive)},
      {"--header-timeout", {}, "", N::kWorker, kPublic, "S",
       "time to receive a request head (default 30)",
       "7", SecondsField(&Config::header_timeout)},
      {"--io-timeout", {}, "", N::kWorker, kPublic, "S",
       "stalled body read / response write (default 30)",
       "3", SecondsField(&Config::io_timeout)},
      {"--backlog", {}, "backlog", N::kBoth, kPublic, "N",
       "listen backlog (default 2048)",
       "64", IntField(&Config::backlog, 1, 1 << 20)},
      {"--limit-request-line", {}, "limit_request_line", N::kWorker, kPublic,
       "N",
       "longest request line, 0 = unlimited (default 4094)",
       "0", IntField(&Config::limit_request_line, 0, 1 << 20)},
      {"--limit-request-fields", {}, "limit_request_fields", N::kWorker,
       kPublic, "N",
       "most header fields (default 100)",
       "250", IntField(&Config::limit_request_fields, 1, 32768)},
      {"--limit-request-field-size", {"--limit-request-field_size"},
       "limit_request_field_size",
       N::kWorker, kPublic, "N",
       "longest header field (default 8190)",
       "16380", IntField(&Config::limit_request_field_size, 0, 1 << 20)},
      {"--limit-request-body", {}, "", N::kWorker, kPublic, "BYTES",
       "largest request body (default unlimited)",
       "10485760", IntField(&Config::limit_request_body, -1, INT64_MAX)},
      {"--header-map", {}, "header_map", N::kWorker, kPublic, "MODE",
       "headers with '_': drop (default), refuse, dangerous",
       "dangerous", HeaderMapField()},
      {"--permit-obsolete-folding", {}, "permit_obsolete_folding", N::kWorker,
       kPublic, "",
       "accept obs-fold header continuation lines",
       "true", SwitchField(&Config::permit_obsolete_folding)},
      {"--forwarded-allow-ips", {}, "forwarded_allow_ips", N::kWorker, kPublic,
       "LIST",
       "proxies trusted for X-Forwarded-*: addresses,\n"
       "networks, * for all (default 127.0.0.1,::1)",
       "10.0.0.1,10.0.0.0/8", AddressListField(&Config::forwarded_allow_ips)},
      {"--root-path", {}, "", N::kWorker, kPublic, "PREFIX",
       "SCRIPT_NAME the app is mounted at",
       "/mount/point", TextField(&Config::root_path, CheckRootPath)},
      {"--access-logfile", {}, "accesslog", N::kWorker, kPublic, "FILE",
       "access log ('-' = stdout; default off)",
       "-", TextField(&Config::access_logfile)},
      {"--access-logformat", {}, "access_log_format", N::kWorker, kPublic,
       "FMT",
       "Gunicorn access log format",
       "%(h)s \"%(r)s\" --x=%(s)s", TextField(&Config::access_logformat)},
      {"--error-logfile", {"--log-file"}, "errorlog", N::kBoth, kPublic, "FILE",
       "error log ('-' = stderr, the default)",
       "/var/log/wsgid error.log", TextField(&Config::error_logfile)},
      {"--log-level", {}, "loglevel", N::kBoth, kPublic, "LEVEL",
       "debug, info, warning, error, critical (default info)",
       "debug", TextField(&Config::log_level, CheckLogLevel)},
      {"--server-header", {}, "", N::kWorker, kPublic, "TEXT",
       "Server response header (default wsgid; empty: none)",
       "app-server", TextField(&Config::server_header)},
      {"--check-config", {}, "check_config", N::kMaster, kPublic, "",
       "validate the configuration and exit",
       "true", SwitchField(&Config::check_config)},
  };
  // issue 15: what Gunicorn has besides (common/gunicorn_rows.h).
  std::vector<Setting> gunicorn = GunicornCompatibilityRows();
  table.insert(table.end(), gunicorn.begin(), gunicorn.end());
  table.insert(table.end(), {
      // issue 18: logging
      {"--log-format", {}, "", N::kBoth, kPublic, "FORMAT",
       "error and access log records: text (Gunicorn's) or\n"
       "json (one object per line)",
       "json", TextField(&Config::log_format, CheckLogFormat)},
      {"--capture-output", {}, "capture_output", N::kWorker, kPublic, "",
       "the app's stdout/stderr into the error log (the\n"
       "default unless -R)",
       "true", SwitchField(&Config::capture_output)},
      {"--enable-stdio-inheritance", {"-R"}, "enable_stdio_inheritance",
       N::kWorker, kPublic, "",
       "leave the app's stdout/stderr as the master's\n"
       "(unless --capture-output)",
       "true", SwitchField(&Config::enable_stdio_inheritance)},
      {"--log-config", {}, "logconfig", N::kMaster, kPublic, "FILE",
       "Python logging ini file: level and handlers' files",
       "/etc/wsgid/logging.ini", TextField(&Config::log_config)},
      {"--log-config-dict", {}, "logconfig_dict", N::kMaster, kPublic, "JSON",
       "logging dictConfig (JSON): level and handlers' files",
       "{\"version\": 1}", TextField(&Config::log_config_dict)},
      {"--log-config-json", {}, "logconfig_json", N::kMaster, kPublic, "FILE",
       "logging dictConfig JSON file",
       "/etc/wsgid/logging.json", TextField(&Config::log_config_json)},
      {"--log-syslog", {}, "syslog", N::kBoth, kPublic, "",
       "send error and access records to syslog too",
       "true", SwitchField(&Config::syslog)},
      {"--log-syslog-to", {}, "syslog_addr", N::kBoth, kPublic, "ADDRESS",
       "udp://HOST:PORT, tcp://HOST:PORT or unix://PATH\n"
       "(default udp://localhost:514)",
       "unix:///dev/log", TextField(&Config::syslog_addr, CheckSyslogAddr)},
      {"--log-syslog-prefix", {}, "syslog_prefix", N::kBoth, kPublic, "NAME",
       "syslog tag: wsgid.NAME.error / wsgid.NAME.access",
       "myapp", TextField(&Config::syslog_prefix)},
      {"--log-syslog-facility", {}, "syslog_facility", N::kBoth, kPublic,
       "NAME", "syslog facility (default user)",
       "local0", TextField(&Config::syslog_facility, CheckSyslogFacility)},
      {"--disable-redirect-access-to-syslog", {},
       "disable_redirect_access_to_syslog", N::kWorker, kPublic, "",
       "keep access lines out of syslog",
       "true", SwitchField(&Config::disable_redirect_access_to_syslog)},
      {"--logger-class", {}, "logger_class", N::kMaster, kPublic, "CLASS",
       "only gunicorn.glogging.Logger (wsgid logs in C++)",
       "simple",
       TextField(&Config::logger_class, CheckLoggerClass)},
      // issue 16: preload
      {"--preload", {}, "preload_app", N::kMaster, kPublic, "",
       "import the app once in a zygote process per\n"
       "generation and fork the workers from it",
       "true", SwitchField(&Config::preload)},
      {"--no-gc-freeze", {}, "", N::kWorker, kPublic, "",
       "with --preload: skip gc.freeze() in the zygote",
       "true", SwitchField(&Config::no_gc_freeze)},
      // issue 17: TLS and the PROXY protocol (common/tls_settings.h).
      {"--certfile", {}, "certfile", N::kBoth, kPublic, "FILE",
       "TLS certificate chain (PEM): https on every TCP\n"
       "bind not written http://HOST:PORT",
       "/etc/ssl/app.pem", TextField(&Config::certfile)},
      {"--keyfile", {}, "keyfile", N::kBoth, kPublic, "FILE",
       "its private key (not readable by other users)",
       "/etc/ssl/app.key", TextField(&Config::keyfile)},
      {"--ca-certs", {}, "ca_certs", N::kBoth, kPublic, "FILE",
       "CA certificates client certificates are checked\nagainst",
       "/etc/ssl/ca.pem", TextField(&Config::ca_certs)},
      {"--cert-reqs", {}, "cert_reqs", N::kBoth, kPublic, "N",
       "client certificate: 0 none (default), 1 optional,\n2 required",
       "2", TextField(&Config::cert_reqs, CheckCertReqs)},
      {"--ciphers", {}, "ciphers", N::kBoth, kPublic, "LIST",
       "OpenSSL cipher list for TLS 1.2 (default: ECDHE\nwith AES-GCM or "
       "ChaCha20)",
       "ECDHE+AESGCM", TextField(&Config::ciphers)},
      {"--ssl-min-version", {}, "", N::kBoth, kPublic, "V",
       "TLSv1.2 (default) or TLSv1.3",
       "TLSv1.3", TextField(&Config::ssl_min_version, CheckSslMinVersion)},
      {"--ssl-version", {}, "ssl_version", N::kBoth, kPublic, "V",
       "Gunicorn's; mapped to --ssl-min-version (warned)",
       "TLSv1_2", TextField(&Config::ssl_version, CheckSslVersion)},
      {"--do-handshake-on-connect", {}, "do_handshake_on_connect", N::kMaster,
       kPublic, "",
       "accepted (the handshake always runs on connect)",
       "true", SwitchField(&Config::do_handshake_on_connect)},
      {"--suppress-ragged-eofs", {}, "suppress_ragged_eofs", N::kMaster,
       kPublic, "BOOL",
       "accepted; always true",
       "false", TextField(&Config::suppress_ragged_eofs, CheckBoolText)},
      {"--proxy-protocol", {}, "proxy_protocol", N::kBoth, kPublic, "",
       "read a PROXY protocol v1/v2 header first",
       "true", SwitchField(&Config::proxy_protocol)},
      {"--proxy-protocol-optional", {}, "", N::kBoth, kPublic, "",
       "serve a connection without one as direct\n(Gunicorn's behaviour)",
       "true", SwitchField(&Config::proxy_protocol_optional)},
      {"--proxy-allow-from", {}, "proxy_allow_ips", N::kBoth, kPublic, "LIST",
       "peers allowed to send it: addresses, networks\n"
       "(10.0.0.0/8, fd00::/8), * for all (default\n127.0.0.1)",
       "10.0.0.1,10.0.0.0/8,::1", AddressListField(&Config::proxy_allow_from)},
      {"--control-certfile", {}, "", N::kMaster, kPublic, "FILE",
       "TLS on --control-bind: certificate chain (PEM)",
       "/etc/ssl/ctl.pem", TextField(&Config::control_certfile)},
      {"--control-keyfile", {}, "", N::kMaster, kPublic, "FILE",
       "... and its key",
       "/etc/ssl/ctl.key", TextField(&Config::control_keyfile)},
      // issue 14: the app's virtualenv (uWSGI's -H/--home/--virtualenv).
      {"--virtualenv", {"-H", "--home"}, "", N::kBoth, kPublic, "PATH",
       "the app's virtualenv (default $VIRTUAL_ENV, else\n"
       "the one wsgid is installed in): its sys.prefix\n"
       "and site-packages; same Python major.minor",
       "/srv/app/venv", TextField(&Config::virtualenv)},
      {"--worker-listen-fds", {}, "", N::kWorker, kInternal, "FDS",
       "the listening sockets the master passed down",
       "3,4,10", FdListField(&Config::worker_listen_fds)},
      {"--worker-ready-fd", {}, "", N::kWorker, kInternal, "FD",
       "the pipe to write \"ready\" to once the app is loaded",
       "5", IntField(&Config::worker_ready_fd, 0, kMaxFd)},
      {"--worker-id", {}, "", N::kWorker, kInternal, "ID",
       "this worker's id (its scoreboard slot + 1)",
       "42", IntField(&Config::worker_id, 0, kMaxFd)},
      {"--worker-scoreboard-fd", {}, "", N::kWorker, kInternal, "FD",
       "the scoreboard's shared memory",
       "6", IntField(&Config::worker_scoreboard_fd, 0, kMaxFd)},
      // issue 15: server hooks (gunicorn.conf.py functions)
      {"--worker-hooks-file", {}, "", N::kWorker, kInternal, "FILE",
       "the gunicorn.conf.py (or python:MODULE) whose server hooks run",
       "/etc/gunicorn.conf.py", TextField(&Config::worker_hooks_file)},
      {"--worker-age", {}, "", N::kWorker, kInternal, "N",
       "this worker's spawn number (Gunicorn's worker.age)",
       "7", IntField(&Config::worker_age, 0, INT32_MAX)},
      {"--worker-hook-helper", {}, "", N::kWorker, kInternal, "",
       "run the master's hook helper instead of a worker",
       "true", SwitchField(&Config::worker_hook_helper)},
      // issue 15: --check-config's app import, in a worker process.
      {"--worker-check-app", {}, "", N::kWorker, kInternal, "",
       "import the app, then exit (0, or the import error)",
       "true", SwitchField(&Config::worker_check_app)},
      {"--worker-zygote", {}, "", N::kWorker, kInternal, "",
       "import the app and fork workers on the master's request (issue 16)",
       "true", SwitchField(&Config::worker_zygote)},
  });
  // clang-format on
  return table;
}

}  // namespace

const std::vector<Setting>& SettingsTable() {
  static const std::vector<Setting> table = BuildTable();
  return table;
}

const Setting* FindSettingByName(const std::string& name) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.flag == name) return &setting;
    for (const std::string& alias : setting.aliases)
      if (alias == name) return &setting;
  }
  return nullptr;
}

const Setting* FindSettingByKey(const std::string& key) {
  std::string name = key;
  while (!name.empty() && name[0] == '-') name.erase(0, 1);
  for (char& c : name)
    if (c == '_') c = '-';
  // Only long names: "b" is not -b.
  const Setting* setting = FindSettingByName("--" + name);
  return setting != nullptr && !setting->internal ? setting : nullptr;
}

std::string SettingKey(const Setting& setting) {
  std::string key = setting.flag.substr(2);
  for (char& c : key)
    if (c == '-') c = '_';
  return key;
}

std::string SettingEnvVar(const Setting& setting) {
  std::string name = "WSGID_" + SettingKey(setting);
  for (char& c : name)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string PrintedName(const Setting& setting) {
  return setting.gunicorn.empty() ? SettingKey(setting) : setting.gunicorn;
}

Status ApplySetting(const Setting& setting, const std::string& value,
                    Config* config) {
  Status s = setting.field.parse(*config, value);
  if (s.ok()) return s;
  return Status::InvalidArgument(setting.flag + ": " + s.message());
}

}  // namespace wsgid
