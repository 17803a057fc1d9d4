// Unit tests for common/config.h: the Gunicorn-style command line, ToArgs round
// trips, --help and ValidateConfig. The per-row checks of the settings table
// are in settings_test.cc.
#include "common/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "common/settings.h"

namespace wsgid {
namespace {

using Args = std::vector<std::string>;

// Compares the app and every setting of two configs (the settings table's
// rows), naming the one that differs.
void ExpectSameConfig(const Config& a, const Config& b) {
  EXPECT_EQ(a.app, b.app);
  for (const Setting& setting : SettingsTable())
    EXPECT_TRUE(setting.field.same(a, b)) << setting.flag << " differs";
}

// Parses `args`, failing the test on an error.
Config MustParse(const Args& args) {
  StatusOr<Config> c = ParseCommandLine(args);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Config{};
}

// Expects `args` to be refused with a message that mentions `needle`.
void ExpectParseError(const Args& args, const std::string& needle) {
  StatusOr<Config> c = ParseCommandLine(args);
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  ASSERT_FALSE(c.ok()) << joined;
  EXPECT_NE(c.status().message().find(needle), std::string::npos)
      << joined << "-> '" << c.status().message() << "' does not mention '"
      << needle << "'";
}

// Expects ParseCommandLine(ToArgs(c, Needs::kBoth)) to give c back.
void ExpectRoundTrip(const Config& c) {
  Args args = ToArgs(c, Needs::kBoth);
  StatusOr<Config> back = ParseCommandLine(args);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameConfig(*back, c);
}

// A config with every field away from its default (EveryFieldSetIsComplete
// checks it against the settings table), lists with several items.
Config EveryFieldSet() {
  Config c;
  c.app = "myproject.wsgi:application";
  c.binds = {"127.0.0.1:8001", "[::1]:8002", "unix:/run/app.sock"};
  c.workers = 7;
  c.threads = 16;
  c.max_threads = 32;
  c.chdir = "/srv/app dir";
  c.pythonpath = {"/srv/lib", "/opt/other lib"};
  c.env = {{"DJANGO_SETTINGS_MODULE", "site.settings"},
           {"EMPTY", ""},
           {"EQ", "a=b=c"}};
  c.timeout = 45.5;
  c.request_timeout = 90;
  c.abort_grace = 2.5;
  c.max_workers = 40;
  c.max_requests = 1000;
  c.max_requests_jitter = 50;
  c.pidfile = "/run/wsgid.pid";
  c.user = "www-data";
  c.group = "www data";
  c.umask = 027;
  c.config_file = "/etc/wsgid.toml";
  c.ops_bind = "off";
  c.control_socket = "/run/app.sock";
  c.control_socket_mode = 0660;
  c.control_bind = "127.0.0.1:9181";
  c.control_token_file = "/etc/wsgid.token";
  c.autoscale = true;
  c.min_workers = 2;
  c.min_threads = 3;
  c.max_memory = int64_t{3} << 30;
  c.max_worker_memory = 200 << 20;
  c.scale_down_window = 45;
  c.autoscale_tick = 0.5;
  c.graceful_timeout = 12;
  c.keep_alive = 0.25;
  c.header_timeout = 7;
  c.io_timeout = 3;
  c.backlog = 64;
  c.limit_request_line = 0;
  c.limit_request_fields = 250;
  c.limit_request_field_size = 16380;
  c.limit_request_body = 10485760;
  c.header_map = HeaderMap::kDangerous;
  c.permit_obsolete_folding = true;
  // issue 17: TLS and the PROXY protocol.
  c.certfile = "/etc/ssl/app.pem";
  c.keyfile = "/etc/ssl/app.key";
  c.ca_certs = "/etc/ssl/ca.pem";
  c.cert_reqs = "2";
  c.ciphers = "ECDHE+AESGCM";
  c.ssl_min_version = "TLSv1.3";
  c.ssl_version = "TLSv1_2";
  c.do_handshake_on_connect = true;
  c.suppress_ragged_eofs = "false";
  c.proxy_protocol = true;
  c.proxy_protocol_optional = true;
  c.proxy_allow_from = {"10.0.0.1", "::1"};
  c.control_certfile = "/etc/ssl/ctl.pem";
  c.control_keyfile = "/etc/ssl/ctl.key";
  c.forwarded_allow_ips = {"10.0.0.1", "10.0.0.0/8", "*"};
  c.root_path = "/mount/point";
  c.access_logfile = "-";
  c.access_logformat = "%(h)s \"%(r)s\" --x=%(s)s";
  c.error_logfile = "/var/log/wsgid error.log";
  c.log_level = "debug";
  c.server_header = "";
  c.check_config = true;
  // issue 18: logging
  c.log_format = "json";
  c.capture_output = true;
  c.enable_stdio_inheritance = true;
  c.log_config = "/etc/wsgid/logging.ini";
  c.log_config_dict = "{\"version\": 1}";
  c.log_config_json = "/etc/wsgid/logging.json";
  c.syslog = true;
  c.syslog_addr = "unix:///dev/log";
  c.syslog_prefix = "myapp";
  c.syslog_facility = "local0";
  c.disable_redirect_access_to_syslog = true;
  c.logger_class = "simple";
  c.virtualenv = "/srv/app/venv";  // issue 14
  c.worker_listen_fds = {3, 4, 10};
  c.worker_ready_fd = 5;
  c.worker_id = 42;
  c.worker_scoreboard_fd = 6;
  // issue 15: server hooks
  c.worker_hooks_file = "/srv/app dir/gunicorn.conf.py";
  c.worker_age = 9;
  c.worker_hook_helper = true;
  // issue 15
  c.worker_class = "gthread";
  c.proc_name = "shop";
  c.reuse_port = true;
  c.daemon = true;
  c.print_config = true;
  c.secure_scheme_headers = {"X-SCHEME=https"};
  c.forwarder_headers = {"SCRIPT_NAME", "REMOTE_USER"};
  c.strip_header_spaces = true;
  c.statsd_host = "127.0.0.1:8125";
  c.statsd_prefix = "app";
  c.dogstatsd_tags = "env:prod,web";
  for (const Setting& setting : SettingsTable())
    if (setting.support == Support::kMeansNothing)
      c.accepted_unused[setting.flag] = setting.example;
  c.worker_check_app = true;
  // issue 16: preload
  c.preload = true;
  c.no_gc_freeze = true;
  c.worker_zygote = true;
  return c;
}

// ---------------------------------------------------------------------------
// ParseCommandLine.

TEST(ConfigTest, DefaultsWithOnlyTheApp) {
  Config expected;
  expected.app = "hello:app";
  ExpectSameConfig(MustParse({"hello:app"}), expected);
}

TEST(ConfigTest, EmptyCommandLine) {
  Config c = MustParse({});
  EXPECT_EQ(c.app, "");
}

TEST(ConfigTest, ValueForms) {
  for (const Args& args :
       {Args{"-w", "4", "a:b"}, Args{"-w4", "a:b"},
        Args{"--workers", "4", "a:b"}, Args{"--workers=4", "a:b"},
        Args{"a:b", "--workers=4"}}) {
    EXPECT_EQ(MustParse(args).workers, 4);
    EXPECT_EQ(MustParse(args).app, "a:b");
  }
}

TEST(ConfigTest, LaterFlagWins) {
  EXPECT_EQ(MustParse({"-w", "2", "--workers=3", "a:b"}).workers, 3);
}

TEST(ConfigTest, BindRepeatableInEveryForm) {
  Config c = MustParse({"-b", "127.0.0.1:8000", "-b[::1]:9000",
                        "--bind=unix:/tmp/s.sock", "--bind", ":7000", "a:b"});
  EXPECT_EQ(c.binds, (std::vector<std::string>{"127.0.0.1:8000", "[::1]:9000",
                                               "unix:/tmp/s.sock", ":7000"}));
}

TEST(ConfigTest, EnvForms) {
  Config c =
      MustParse({"-e", "A=1", "-eB=2", "--env=C=x=y", "--env", "D=", "a:b"});
  EXPECT_EQ(c.env, (std::vector<std::pair<std::string, std::string>>{
                       {"A", "1"}, {"B", "2"}, {"C", "x=y"}, {"D", ""}}));
}

TEST(ConfigTest, EnvWithoutEqualsIsAnError) {
  ExpectParseError({"-e", "NOVALUE", "a:b"}, "--env");
  ExpectParseError({"--env==value", "a:b"}, "--env");
}

TEST(ConfigTest, NumbersAndSeconds) {
  Config c = MustParse({"--threads", "8", "-t", "60", "--graceful-timeout=5.5",
                        "--keep-alive", "0", "--header-timeout=1e1",
                        "--io-timeout", "0.5", "--backlog=16", "a:b"});
  EXPECT_EQ(c.threads, 8);
  EXPECT_EQ(c.timeout, 60);
  EXPECT_EQ(c.graceful_timeout, 5.5);
  EXPECT_EQ(c.keep_alive, 0);
  EXPECT_EQ(c.header_timeout, 10);
  EXPECT_EQ(c.io_timeout, 0.5);
  EXPECT_EQ(c.backlog, 16);
}

TEST(ConfigTest, SupervisionFlags) {
  Config c =
      MustParse({"--request-timeout=120", "--abort-grace", "0.5",
                 "--max-workers=64", "--worker-scoreboard-fd", "9", "a:b"});
  EXPECT_EQ(c.request_timeout, 120);
  EXPECT_EQ(c.abort_grace, 0.5);
  EXPECT_EQ(c.max_workers, 64);
  EXPECT_EQ(c.worker_scoreboard_fd, 9);
  ExpectParseError({"--request-timeout=-1"}, "--request-timeout");
  ExpectParseError({"--abort-grace=x"}, "--abort-grace");
  ExpectParseError({"--max-workers=0"}, "--max-workers");
}

TEST(ConfigTest, Limits) {
  Config c =
      MustParse({"--limit-request-line", "0", "--limit-request-fields=32768",
                 "--limit-request-field-size", "0",
                 "--limit-request-body=1048576", "a:b"});
  EXPECT_EQ(c.limit_request_line, 0);
  EXPECT_EQ(c.limit_request_fields, 32768);
  EXPECT_EQ(c.limit_request_field_size, 0);
  EXPECT_EQ(c.limit_request_body, 1048576);
  EXPECT_EQ(MustParse({"--limit-request-body=-1", "a:b"}).limit_request_body,
            -1);
  EXPECT_EQ(MustParse({"--limit-request-body=9223372036854775807", "a:b"})
                .limit_request_body,
            INT64_MAX);
}

TEST(ConfigTest, HeaderMapValues) {
  EXPECT_EQ(MustParse({"--header-map=drop"}).header_map, HeaderMap::kDrop);
  EXPECT_EQ(MustParse({"--header-map", "refuse"}).header_map,
            HeaderMap::kRefuse);
  EXPECT_EQ(MustParse({"--header-map=dangerous"}).header_map,
            HeaderMap::kDangerous);
  ExpectParseError({"--header-map=DROP"}, "--header-map");
  ExpectParseError({"--header-map", "allow"}, "--header-map");
}

TEST(ConfigTest, BooleanFlags) {
  Config c = MustParse({"--permit-obsolete-folding", "--check-config", "a:b"});
  EXPECT_TRUE(c.permit_obsolete_folding);
  EXPECT_TRUE(c.check_config);
  EXPECT_EQ(c.app, "a:b");  // a boolean flag does not swallow the next argument
  ExpectParseError({"--check-config=yes"}, "--check-config");
  ExpectParseError({"--permit-obsolete-folding=1"},
                   "--permit-obsolete-folding");
}

TEST(ConfigTest, ListsSplitOnCommas) {
  Config c =
      MustParse({"--pythonpath", "/a, /b", "--pythonpath=/c",
                 "--forwarded-allow-ips", " 10.0.0.1 ,10.0.0.2,", "a:b"});
  EXPECT_EQ(c.pythonpath, (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_EQ(c.forwarded_allow_ips,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_TRUE(
      MustParse({"--forwarded-allow-ips="}).forwarded_allow_ips.empty());
}

TEST(ConfigTest, RootPath) {
  EXPECT_EQ(MustParse({"--root-path=/app/"}).root_path, "/app");
  EXPECT_EQ(MustParse({"--root-path", "/a/b"}).root_path, "/a/b");
  EXPECT_EQ(MustParse({"--root-path=/"}).root_path, "");
  EXPECT_EQ(MustParse({"--root-path="}).root_path, "");
  ExpectParseError({"--root-path=app"}, "--root-path");
}

TEST(ConfigTest, StringsAndLogging) {
  Config c =
      MustParse({"--chdir", "/srv", "--access-logfile=-", "--access-logformat",
                 "%(h)s", "--error-logfile=/tmp/e.log", "--log-level",
                 "warning", "--server-header=", "a:b"});
  EXPECT_EQ(c.chdir, "/srv");
  EXPECT_EQ(c.access_logfile, "-");
  EXPECT_EQ(c.access_logformat, "%(h)s");
  EXPECT_EQ(c.error_logfile, "/tmp/e.log");
  EXPECT_EQ(c.log_level, "warning");
  EXPECT_EQ(c.server_header, "");
  EXPECT_EQ(MustParse({"--log-file", "x.log"}).error_logfile, "x.log");
  // issue 14: uWSGI's names for the virtualenv too.
  for (const char* flag : {"--virtualenv", "-H", "--home"})
    EXPECT_EQ(MustParse({flag, "/srv/venv"}).virtualenv, "/srv/venv");
  for (const char* level : {"debug", "info", "warning", "error", "critical"})
    EXPECT_EQ(MustParse({std::string("--log-level=") + level}).log_level,
              level);
}

TEST(ConfigTest, WorkerFields) {
  Config c = MustParse({"--worker-listen-fds=3,4", "--worker-ready-fd", "7",
                        "--worker-id=2", "a:b"});
  EXPECT_EQ(c.worker_listen_fds, (std::vector<int>{3, 4}));
  EXPECT_EQ(c.worker_ready_fd, 7);
  EXPECT_EQ(c.worker_id, 2);
  ExpectParseError({"--worker-listen-fds=3,x"}, "--worker-listen-fds");
  ExpectParseError({"--worker-ready-fd=-2"}, "--worker-ready-fd");
}

TEST(ConfigTest, ErrorsNameTheFlag) {
  ExpectParseError({"--workers", "abc"}, "--workers");
  ExpectParseError({"-w", "abc"}, "--workers");
  ExpectParseError({"-wx"}, "--workers");
  ExpectParseError({"-w", "0"}, "--workers");
  ExpectParseError({"--workers=1025"}, "--workers");
  ExpectParseError({"--workers=4.5"}, "--workers");
  ExpectParseError({"--workers=4 "}, "--workers");
  ExpectParseError({"--workers="}, "--workers");
  ExpectParseError({"--workers=99999999999999999999"}, "--workers");
  ExpectParseError({"--threads=0"}, "--threads");
  ExpectParseError({"--timeout=-1"}, "--timeout");
  ExpectParseError({"-t", "soon"}, "--timeout");
  ExpectParseError({"--timeout=nan"}, "--timeout");
  ExpectParseError({"--timeout=inf"}, "--timeout");
  ExpectParseError({"--graceful-timeout=5s"}, "--graceful-timeout");
  ExpectParseError({"--keep-alive="}, "--keep-alive");
  ExpectParseError({"--backlog=0"}, "--backlog");
  ExpectParseError({"--limit-request-line=-1"}, "--limit-request-line");
  ExpectParseError({"--limit-request-fields=0"}, "--limit-request-fields");
  ExpectParseError({"--limit-request-field-size=-1"},
                   "--limit-request-field-size");
  ExpectParseError({"--limit-request-body=-2"}, "--limit-request-body");
}

TEST(ConfigTest, MissingValueNamesTheFlag) {
  ExpectParseError({"a:b", "--workers"}, "--workers");
  ExpectParseError({"a:b", "-b"}, "-b");
  ExpectParseError({"--chdir"}, "--chdir");
}

TEST(ConfigTest, UnknownOptionNamed) {
  ExpectParseError({"--no-such-flag", "a:b"}, "--no-such-flag");
  ExpectParseError({"--no-such-flag=1", "a:b"}, "--no-such-flag");
  ExpectParseError({"-z", "a:b"}, "-z");
  ExpectParseError({"-zvalue", "a:b"}, "-z");
}

TEST(ConfigTest, SecondPositionalRejected) {
  ExpectParseError({"a:b", "c:d"}, "c:d");
}

// Regression (fixed): the --log-level error is ParseLogLevel's message, which
// does not name the flag
// ("invalid log level 'loud' (...)"); every other flag's error does.
TEST(ConfigTest, LogLevelErrorNamesTheFlag) {
  ExpectParseError({"--log-level=loud"}, "--log-level");
}

// ---------------------------------------------------------------------------
// ToArgs.

TEST(ConfigTest, ToArgsRoundTripDefaults) {
  Config c;
  c.app = "hello:app";
  ExpectRoundTrip(c);
}

TEST(ConfigTest, EveryFieldSetIsComplete) {
  Config c = EveryFieldSet();
  for (const Setting& setting : SettingsTable()) {
    if (setting.support == Support::kRefused) continue;  // no value to hold
    EXPECT_FALSE(setting.field.same(c, Config{}))
        << setting.flag << " is at its default in EveryFieldSet";
  }
}

TEST(ConfigTest, ToArgsRoundTripEveryField) {
  ExpectRoundTrip(EveryFieldSet());
}

TEST(ConfigTest, ToArgsRoundTripWorkerFieldsUnset) {
  Config c = EveryFieldSet();
  c.worker_listen_fds.clear();
  c.worker_ready_fd = -1;
  c.worker_id = 0;
  c.worker_scoreboard_fd = -1;
  ExpectRoundTrip(c);
}

TEST(ConfigTest, ToArgsRoundTripHeaderMaps) {
  for (HeaderMap m :
       {HeaderMap::kDrop, HeaderMap::kRefuse, HeaderMap::kDangerous}) {
    Config c;
    c.app = "a:b";
    c.header_map = m;
    ExpectRoundTrip(c);
  }
}

TEST(ConfigTest, ToArgsRoundTripEmptyLists) {
  Config c;
  c.app = "a:b";
  c.forwarded_allow_ips.clear();
  c.error_logfile = "";
  ExpectRoundTrip(c);
}

TEST(ConfigTest, ToArgsEndsWithTheApp) {
  Config c = EveryFieldSet();
  for (Needs reader : {Needs::kWorker, Needs::kMaster, Needs::kBoth}) {
    Args args = ToArgs(c, reader);
    ASSERT_FALSE(args.empty());
    EXPECT_EQ(args.back(), c.app);
  }
}

// The worker's command line: what the worker reads, master-only settings left
// at their defaults.
TEST(ConfigTest, ToArgsForTheWorkerCarriesWhatTheWorkerReads) {
  Config c = EveryFieldSet();
  StatusOr<Config> back = ParseCommandLine(ToArgs(c));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->app, c.app);
  for (const Setting& setting : SettingsTable()) {
    if (NeededBy(setting.needs, Needs::kWorker))
      EXPECT_TRUE(setting.field.same(*back, c)) << setting.flag;
    else
      EXPECT_TRUE(setting.field.same(*back, Config{})) << setting.flag;
  }
}

// Every item is "--flag=value" or a bare switch, so a value starting with '-'
// or holding spaces stays one item (the master's -b reaches the worker as
// "--bind=HOST:PORT", which test_faults looks for in /proc/PID/cmdline).
TEST(ConfigTest, ToArgsWritesFlagEqualsValue) {
  Config c = EveryFieldSet();
  Args args = ToArgs(c, Needs::kBoth);
  for (size_t i = 0; i + 1 < args.size(); ++i)
    EXPECT_EQ(args[i].rfind("--", 0), 0u) << args[i];
  EXPECT_NE(std::find(args.begin(), args.end(), "--bind=127.0.0.1:8001"),
            args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "--check-config"), args.end());
}

TEST(ConfigTest, ToArgsOfTheDefaultsIsTheApp) {
  Config c;
  c.app = "a:b";
  EXPECT_EQ(ToArgs(c, Needs::kBoth), Args{"a:b"});
}

// Regression (fixed): ToArgs drops check_config, so ParseCommandLine(ToArgs(c))
// != c when it is set (config.h: "The command line that makes ParseCommandLine
// return `config` again").
TEST(ConfigTest, ToArgsRoundTripCheckConfig) {
  Config c;
  c.app = "a:b";
  c.check_config = true;
  ExpectRoundTrip(c);
}

// Regression (fixed): seconds are written with the stream's default 6
// significant digits, so a timeout of 1234567 s comes back as 1234570 and
// 0.1234567 s as 0.123457.
TEST(ConfigTest, ToArgsRoundTripSecondsPrecision) {
  Config c;
  c.app = "a:b";
  c.graceful_timeout = 1234567;
  c.keep_alive = 0.1234567;
  ExpectRoundTrip(c);
}

// Regression (fixed): list fields are written one item per flag but parsed by
// splitting on ',' (and trimming), so an item containing a comma comes back as
// two.
// --pythonpath is comma-separated (as Gunicorn's), so a path holding a comma
// cannot be handed to the worker: it is refused when the configuration is
// validated.
TEST(ConfigTest, PythonpathEntryWithCommaRefused) {
  Config c;
  c.app = "a:b";
  c.pythonpath = {"/srv/a,b"};
  EXPECT_FALSE(ValidateConfig(c).ok());
}

// ---------------------------------------------------------------------------
// ValidateConfig.

TEST(ConfigTest, ValidateAcceptsApps) {
  for (const char* app : {"hello:app", "pkg.mod:application", "mod",
                          "mod:create_app()", "mod:factory(debug=True)"}) {
    Config c;
    c.app = app;
    EXPECT_TRUE(ValidateConfig(c).ok())
        << app << ": " << ValidateConfig(c).message();
  }
  // The TLS files of EveryFieldSet do not exist (test_tls.py checks real ones).
  Config every = EveryFieldSet();
  every.certfile = every.keyfile = every.ca_certs = "";
  every.control_certfile = every.control_keyfile = "";
  every.cert_reqs = "0";
  EXPECT_TRUE(ValidateConfig(every).ok()) << ValidateConfig(every).message();
}

TEST(ConfigTest, ValidateRejectsBadApps) {
  for (const char* app : {"", ":app", "mod:"}) {
    Config c;
    c.app = app;
    Status s = ValidateConfig(c);
    EXPECT_FALSE(s.ok()) << app;
    EXPECT_FALSE(s.message().empty()) << app;
  }
}

TEST(ConfigTest, ValidateRejectsWorkersAboveMax) {
  Config c;
  c.app = "a:b";
  c.workers = 8;
  c.max_workers = 8;
  EXPECT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c).message();
  c.workers = 9;
  Status s = ValidateConfig(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--max-workers"), std::string::npos)
      << s.message();
}

TEST(ConfigTest, ValidateRejectsZeroTimeout) {
  Config c;
  c.app = "a:b";
  c.timeout = 0;
  Status s = ValidateConfig(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--timeout"), std::string::npos) << s.message();
}

// Regression (fixed): ValidateConfig promises "counts in range, limits sane"
// but checks only the app and timeout == 0: a Config built other than by
// ParseCommandLine (a reloaded file, the environment) with workers = 0 or a
// negative timeout passes.
TEST(ConfigTest, ValidateRejectsOutOfRangeCounts) {
  Config base;
  base.app = "a:b";
  Config c = base;
  c.workers = -1;
  EXPECT_FALSE(ValidateConfig(c).ok()) << "workers = -1";
  c = base;
  c.threads = 0;
  EXPECT_FALSE(ValidateConfig(c).ok()) << "threads = 0";
  c = base;
  c.timeout = -1;
  EXPECT_FALSE(ValidateConfig(c).ok()) << "timeout = -1";
  c = base;
  c.limit_request_fields = 0;
  EXPECT_FALSE(ValidateConfig(c).ok()) << "limit_request_fields = 0";
  c = base;
  c.limit_request_body = -5;
  EXPECT_FALSE(ValidateConfig(c).ok()) << "limit_request_body = -5";
}

// --help lists the public rows in the table's order, the internal ones never.
TEST(ConfigTest, UsageTextFollowsTheTable) {
  std::string usage = UsageText("wsgid");
  size_t last = 0;
  for (const Setting& setting : SettingsTable()) {
    // The flag as a whole word ("--reload", not "--reload-engine"), then its
    // metavar or its other names.
    const std::string& word = setting.flag;
    size_t at = usage.find(word);
    while (at != std::string::npos &&
           (usage[at + word.size()] == '-' || usage[at + word.size()] == '_' ||
            std::isalnum(static_cast<unsigned char>(usage[at + word.size()]))))
      at = usage.find(word, at + 1);
    if (setting.internal) {
      EXPECT_EQ(at, std::string::npos) << setting.flag;
      continue;
    }
    ASSERT_NE(at, std::string::npos) << setting.flag;
    EXPECT_GT(at, last) << setting.flag << " is out of the table's order";
    last = at;
  }
  EXPECT_NE(usage.find("  -b, --bind ADDRESS          HOST:PORT"),
            std::string::npos);
  EXPECT_NE(usage.find("      --min-workers N, --min-threads N  the scaler's"),
            std::string::npos);
  EXPECT_NE(
      usage.find("\n                              default 127.0.0.1:8000)"),
      std::string::npos);
  // issue 14: every long name but a spelling variant of the flag.
  EXPECT_NE(usage.find("  -H, --virtualenv, --home PATH"), std::string::npos);
  EXPECT_NE(usage.find("--error-logfile, --log-file FILE"), std::string::npos);
  EXPECT_EQ(usage.find("--limit-request-field_size"), std::string::npos);
  EXPECT_NE(usage.find("  -h, --help                  this text\n"
                       "      --version               print the version\n"),
            std::string::npos);
}

TEST(ConfigTest, UsageTextNamesProgramAndFlags) {
  std::string usage = UsageText("wsgid");
  EXPECT_EQ(usage.rfind("usage: wsgid", 0), 0u);
  for (const char* flag :
       {"--bind", "--workers", "--threads", "--timeout", "--limit-request-line",
        "--header-map", "--check-config"})
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace wsgid
