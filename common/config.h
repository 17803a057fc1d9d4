// Config: the settings shared by wsgid and wsgid-worker, typed, and the
// Gunicorn-compatible command line that fills them.
//
// Config is the typed result; what the settings are (names, help, who reads
// them, how they are parsed and written) is the settings table
// (common/settings.h), from which the command-line parser, ToArgs, UsageText
// and ConfigLayer are derived. A field's member initializer is its default.
//
// wsgid parses its command line into a Config, validates it, and hands the
// worker the settings it needs as a command line again (ToArgs), so both
// sides parse with one function. The file and environment readers are the
// daemon's (daemon/config_file.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/settings.h"
#include "common/status.h"

namespace wsgid {

// What to do with request headers whose name contains '_' (they would collide
// with '-' in the environ: X_Auth and X-Auth both become HTTP_X_AUTH).
// Gunicorn's header_map.
enum class HeaderMap { kDrop, kRefuse, kDangerous };

struct Config {
  std::string app;                 // MODULE:CALLABLE or MODULE:factory()
  std::vector<std::string> binds;  // -b: HOST:PORT, [V6]:PORT, unix:/path
  // -w. 0 (not given) until LoadConfig picks the default: $WEB_CONCURRENCY, as
  // Gunicorn reads it, else the rule of thumb 2 x cores + 1 (DefaultWorkers).
  int workers = 0;
  int threads = 1;      // --threads: app threads per worker
  int max_threads = 0;  // --max-threads: run-time bound (0: --threads)
  std::string chdir;    // --chdir, before importing the app
  std::vector<std::string> pythonpath;  // --pythonpath, prepended to sys.path
  std::vector<std::pair<std::string, std::string>> env;  // -e VAR=VALUE
  double timeout = 30;  // --timeout: a worker silent this long is frozen
  double graceful_timeout = 30;  // --graceful-timeout: drain deadline
  double request_timeout =
      0;                   // --request-timeout: one request this long (0: off)
  double abort_grace = 1;  // --abort-grace: SIGABRT to SIGKILL
  int max_workers = 32;  // --max-workers: bounds the pool (and the scoreboard)
  int max_requests =
      0;  // --max-requests: recycle a worker after this many (0: never)
  int max_requests_jitter =
      0;                // --max-requests-jitter: plus a random 0..jitter
  std::string pidfile;  // -p/--pid
  std::string user;     // -u/--user: workers run as this user (name or uid)
  std::string group;    // -g/--group: and group
  int umask = 0;  // -m/--umask (octal on the command line, e.g. 0o027 or 027)
  std::string ops_bind =
      "127.0.0.1:9180";  // --ops-bind: /livez /readyz /metrics ("off": none)
  std::string
      control_socket;  // --control-socket (empty: the default path; "off")
  int control_socket_mode =
      0600;  // --control-socket-mode (0660 lets a group in)
  std::string
      control_bind;  // --control-bind HOST:PORT (TCP; needs a token file)
  std::string control_token_file;  // --control-token-file
  bool autoscale = false;  // --autoscale: the scaler tunes workers and threads
  int min_workers = 1;     // --min-workers (the scaler's floor)
  int min_threads = 1;     // --min-threads
  int64_t max_memory = 0;  // --max-memory: workers' total PSS budget, bytes
  int64_t max_worker_memory = 0;  // --max-worker-memory: recycle a worker above
                                  // this RSS, bytes (0: off)
  double scale_down_window =
      30;                     // --scale-down-window: underuse before shrinking
  double autoscale_tick = 1;  // --autoscale-tick
  double keep_alive = 2;  // --keep-alive: idle keep-alive connection lifetime
  double header_timeout =
      30;  // --header-timeout: to receive a whole request head
  double io_timeout =
      30;              // --io-timeout: a stalled body read or response write
  int backlog = 2048;  // --backlog
  int limit_request_line = 4094;   // --limit-request-line (0: unlimited)
  int limit_request_fields = 100;  // --limit-request-fields
  int limit_request_field_size =
      8190;  // --limit-request-field-size (0: the default)
  int64_t limit_request_body =
      -1;  // --limit-request-body, bytes (-1: unlimited)
  HeaderMap header_map = HeaderMap::kDrop;  // --header-map
  bool permit_obsolete_folding = false;     // --permit-obsolete-folding
  std::vector<std::string> forwarded_allow_ips{"127.0.0.1",
                                               "::1"};  // --forwarded-allow-ips
  std::string root_path;       // --root-path: SCRIPT_NAME the app is mounted at
  std::string access_logfile;  // --access-logfile (empty: off; "-": stdout)
  std::string access_logformat =
      R"(%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s")";
  std::string error_logfile = "-";  // --error-logfile
  std::string log_level = "info";   // --log-level
  std::string server_header =
      "wsgid";                // --server-header (empty: no Server header)
  bool check_config = false;  // --check-config: validate and exit
  std::string config_file;    // -c/--config: wsgid.toml or gunicorn.conf.py

  // issue 15: Gunicorn's settings.
  std::string worker_class = "sync";  // -k: sync or gthread (others refused)
  std::string proc_name;      // -n: process titles "wsgid: master [NAME]"
  bool reuse_port = false;    // --reuse-port: SO_REUSEPORT on the listeners
  bool daemon = false;        // -D: detach from the terminal
  bool print_config = false;  // --print-config: print the settings and exit
  // --secure-scheme-headers: HEADER=VALUE pairs that mean https from a proxy.
  std::vector<std::string> secure_scheme_headers{"X-FORWARDED-PROTOCOL=ssl",
                                                 "X-FORWARDED-PROTO=https",
                                                 "X-FORWARDED-SSL=on"};
  // --forwarder-headers: environ keys a trusted proxy may set as headers.
  std::vector<std::string> forwarder_headers{"SCRIPT_NAME", "PATH_INFO"};
  bool strip_header_spaces = false;  // --strip-header-spaces
  std::string statsd_host;           // --statsd-host HOST:PORT (UDP)
  std::string statsd_prefix;         // --statsd-prefix
  std::string dogstatsd_tags;        // --dogstatsd-tags a:b,c:d
  // Settings that mean nothing here, as given: flag -> value (Support).
  std::map<std::string, std::string> accepted_unused;
  // Where each setting given came from: TOML key -> "file", "environment" or
  // "flag" (absent: the default). Filled by ConfigLayer; never compared.
  std::map<std::string, std::string> sources;
  bool worker_check_app = false;  // --worker-check-app: import, then exit
  // issue 18: logging (README "Logging")
  std::string log_format = "text";  // --log-format text|json
  bool capture_output = false;      // --capture-output: stdio to the error log
  bool enable_stdio_inheritance = false;  // -R: the app's stdio left alone
  std::string log_config;                 // --log-config: a logging ini file
  std::string log_config_dict;  // --log-config-dict: a dictConfig as JSON
  std::string log_config_json;  // --log-config-json: a dictConfig JSON file
  bool syslog = false;          // --log-syslog
  std::string syslog_addr = "udp://localhost:514";  // --log-syslog-to
  std::string syslog_prefix;                        // --log-syslog-prefix
  std::string syslog_facility = "user";             // --log-syslog-facility
  bool disable_redirect_access_to_syslog = false;
  std::string logger_class = "gunicorn.glogging.Logger";  // --logger-class
  // issue 16: preload (a zygote per generation imports the app once and forks
  // the workers).
  bool preload = false;       // --preload (gunicorn.conf.py: preload_app)
  bool no_gc_freeze = false;  // --no-gc-freeze: the zygote skips gc.freeze()
  // issue 17: TLS and the PROXY protocol (common/tls_settings.h).
  std::string certfile;  // --certfile: PEM chain; TLS on every TCP bind
                         // not written http://
  std::string keyfile;   // --keyfile (empty: the key is in --certfile)
  std::string ca_certs;  // --ca-certs: CAs that client certificates chain to
  std::string cert_reqs = "0";  // --cert-reqs: 0 none, 1 optional, 2 required
  std::string ciphers;          // --ciphers: TLS 1.2 cipher list (empty: ours)
  std::string ssl_min_version = "TLSv1.2";  // --ssl-min-version
  std::string ssl_version;  // --ssl-version: Gunicorn's, mapped to the minimum
  bool do_handshake_on_connect = false;       // accepted (always in epoll)
  std::string suppress_ragged_eofs = "true";  // accepted; always true
  bool proxy_protocol = false;  // --proxy-protocol: a PROXY v1/v2 header first
  bool proxy_protocol_optional = false;  // a connection without one is direct
  std::vector<std::string> proxy_allow_from{"127.0.0.1"};  // --proxy-allow-from
  std::string control_certfile;  // --control-certfile: TLS on --control-bind
  std::string control_keyfile;   // --control-keyfile
  // issue 14: the app's virtualenv (--virtualenv, -H, --home; the master
  // defaults it to $VIRTUAL_ENV, else the venv wsgid is installed in, and
  // makes it absolute). Empty: the embedded Python's own prefix.
  std::string virtualenv;

  // Set only on the worker's command line, by wsgid.
  std::vector<int> worker_listen_fds;  // --worker-listen-fds 3,4
  int worker_ready_fd = -1;            // --worker-ready-fd
  int worker_id = 0;  // --worker-id (1-based; scoreboard slot id - 1)
  int worker_scoreboard_fd = -1;  // --worker-scoreboard-fd

  // issue 15: server hooks. The file whose hook functions run (set by the
  // gunicorn.conf.py reader when the file defines one; "" when none): the
  // workers and the master's hook helper each read it themselves.
  std::string worker_hooks_file;    // --worker-hooks-file
  int worker_age = 0;               // --worker-age: Gunicorn's worker.age
  bool worker_hook_helper = false;  // --worker-hook-helper: helper mode
  bool worker_zygote = false;       // --worker-zygote (issue 16)
};

// Applies settings over a Config, one source at a time (file, environment,
// command line: later sources win). A list setting (bind, pythonpath, env,
// forwarded_allow_ips) given by a source replaces what earlier sources said, as
// in Gunicorn. Keys and kinds come from the settings table. One ConfigLayer per
// source; not thread-safe; `config` must outlive it.
class ConfigLayer {
 public:
  // `source` ("file", "environment", "flag"), when given, is recorded in
  // Config::sources for every setting this layer sets (/v1/config shows it).
  explicit ConfigLayer(Config* config, std::string source = "")
      : config_(config), source_(std::move(source)) {}
  // The kind of value `key` takes. Keys are long option names with or without
  // their dashes, '_' and '-' alike ("graceful_timeout"). Unknown keys and the
  // settings the master hands its workers are errors naming the key.
  static StatusOr<ValueKind> KindOf(const std::string& key);
  // Applies one value given as text ("true"/"false" for kBool; one item for
  // kList). Errors are InvalidArgument and name the setting.
  Status Set(const std::string& key, const std::string& value);
  // Empties a list setting (an empty array in a file). No-op for other kinds.
  void Clear(const std::string& key);

 private:
  Config* config_;
  std::string source_;
  std::vector<const Setting*> lists_replaced_;
};

// Parses a Gunicorn-style command line (argv[0] excluded) over `base`:
// "--flag value", "--flag=value", short forms "-w 4" and "-w4", switches
// without a value, one positional MODULE:CALLABLE. Every row of the settings
// table is accepted, the internal --worker-* ones too. Errors are
// InvalidArgument and name the flag and what was wrong. `source` is what
// Config::sources records for the settings it sets.
StatusOr<Config> ParseCommandLine(const std::vector<std::string>& args,
                                  const Config& base = Config(),
                                  const std::string& source = "flag");

// Checks cross-field rules (an app given, counts in range, limits sane).
Status ValidateConfig(const Config& config);

// The most app threads a worker may run: --max-threads, or --threads without
// it.
inline int MaxThreads(const Config& config) {
  return config.max_threads > config.threads ? config.max_threads
                                             : config.threads;
}

// The command line ("--flag=value" items, the app last) that makes
// ParseCommandLine return `config` again, as far as `reader` reads it: the
// settings whose row `reader` needs and whose value is not the default. The
// master hands a worker ToArgs(config) (worker and shared settings, internal
// --worker-* ones included when set); ToArgs(config, Needs::kBoth) carries
// every setting.
std::vector<std::string> ToArgs(const Config& config,
                                Needs reader = Needs::kWorker);

// The --help text: the public rows of the settings table, in its order.
std::string UsageText(const std::string& program);

}  // namespace wsgid
