// Unit tests for issue 15's promise: every setting of Gunicorn 23.0 has an
// answer in the settings table (implemented, accepted but changing nothing,
// or refused with why and what instead), and the README's migration table is
// the table's own (generated here; a drift fails with the expected text).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/settings.h"

namespace wsgid {
namespace {

// Gunicorn 23.0's settings (gunicorn/config.py, every class's `name`), in its
// order: 93, and tolerate_dangerous_framing, which the brief names
// among 23.0's additions (answered too, so nothing is left out either way).
const std::vector<std::string> kGunicornSettings = {
    "config",
    "wsgi_app",
    "bind",
    "backlog",
    "workers",
    "worker_class",
    "threads",
    "worker_connections",
    "max_requests",
    "max_requests_jitter",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "limit_request_line",
    "limit_request_fields",
    "limit_request_field_size",
    "reload",
    "reload_engine",
    "reload_extra_files",
    "spew",
    "check_config",
    "print_config",
    "preload_app",
    "sendfile",
    "reuse_port",
    "chdir",
    "daemon",
    "raw_env",
    "pidfile",
    "worker_tmp_dir",
    "user",
    "group",
    "umask",
    "initgroups",
    "tmp_upload_dir",
    "secure_scheme_headers",
    "forwarded_allow_ips",
    "accesslog",
    "disable_redirect_access_to_syslog",
    "access_log_format",
    "errorlog",
    "loglevel",
    "capture_output",
    "logger_class",
    "logconfig",
    "logconfig_dict",
    "logconfig_json",
    "syslog_addr",
    "syslog",
    "syslog_prefix",
    "syslog_facility",
    "enable_stdio_inheritance",
    "statsd_host",
    "dogstatsd_tags",
    "statsd_prefix",
    "proc_name",
    "default_proc_name",
    "pythonpath",
    "paste",
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
    "ssl_context",
    "proxy_protocol",
    "proxy_allow_ips",
    "keyfile",
    "certfile",
    "ssl_version",
    "cert_reqs",
    "ca_certs",
    "suppress_ragged_eofs",
    "do_handshake_on_connect",
    "ciphers",
    "raw_paste_global_conf",
    "permit_obsolete_folding",
    "strip_header_spaces",
    "permit_unconventional_http_method",
    "permit_unconventional_http_version",
    "casefold_http_method",
    "forwarder_headers",
    "header_map",
    "tolerate_dangerous_framing"};

// The Gunicorn settings that are functions, not rows, and their answer: the
// server hooks (run by worker/server_hooks.h and daemon/master_hooks.h;
// test_hooks.py) and the ssl_context hook (ignored with its reason by
// daemon/config_file.cc; test_tls.py).
const std::map<std::string, std::string> kFunctionsNotRows = {
    {"on_starting", "yes: a server hook (see Server hooks)"},
    {"on_reload", "yes: a server hook (see Server hooks)"},
    {"when_ready", "yes: a server hook (see Server hooks)"},
    {"pre_fork", "yes: a server hook (see Server hooks)"},
    {"post_fork", "yes: a server hook (see Server hooks)"},
    {"post_worker_init", "yes: a server hook (see Server hooks)"},
    {"worker_int", "yes: a server hook (see Server hooks)"},
    {"worker_abort", "yes: a server hook (see Server hooks)"},
    {"pre_exec", "yes: a server hook (see Server hooks)"},
    {"pre_request", "yes: a server hook (see Server hooks)"},
    {"post_request", "yes: a server hook (see Server hooks)"},
    {"child_exit", "yes: a server hook (see Server hooks)"},
    {"worker_exit", "yes: a server hook (see Server hooks)"},
    {"nworkers_changed", "yes: a server hook (see Server hooks)"},
    {"on_exit", "yes: a server hook (see Server hooks)"},
    {"ssl_context",
     "ignored, with a warning: the TLS context comes from the TLS settings"},
};

const Setting* RowFor(const std::string& gunicorn) {
  for (const Setting& setting : SettingsTable())
    if (setting.gunicorn == gunicorn) return &setting;
  return nullptr;
}

TEST(GunicornSettingsTest, EveryGunicornSettingHasAnAnswer) {
  EXPECT_EQ(kGunicornSettings.size(), 94u);
  for (const std::string& name : kGunicornSettings) {
    SCOPED_TRACE(name);
    const Setting* row = RowFor(name);
    if (kFunctionsNotRows.count(name)) {
      EXPECT_EQ(row, nullptr) << "a hook has no row";
      continue;
    }
    if (name == "wsgi_app") continue;  // the app itself (the file reader's)
    ASSERT_NE(row, nullptr) << "no row answers it";
    EXPECT_FALSE(row->internal);
  }
}

TEST(GunicornSettingsTest, RefusalsAndNoOpsSayWhy) {
  int refused = 0, unused = 0;
  for (const Setting& setting : SettingsTable()) {
    SCOPED_TRACE(setting.flag);
    switch (setting.support) {
      case Support::kImplemented:
        EXPECT_TRUE(setting.why.empty());
        break;
      case Support::kMeansNothing: {
        ++unused;
        EXPECT_NE(setting.why.find("changes nothing: "), std::string::npos);
        Config c;
        ASSERT_TRUE(ApplySetting(setting, setting.example, &c).ok());
        EXPECT_EQ(c.accepted_unused.count(setting.flag), 1u);
        break;
      }
      case Support::kRefused: {
        ++refused;
        EXPECT_NE(setting.why.find("instead"), std::string::npos);
        Config c;
        Status s = ApplySetting(setting, setting.example, &c);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.message(), setting.flag + ": refused: " + setting.why);
        // Gunicorn's --print-config writes `reload = False`: asks for nothing.
        if (setting.field.kind == ValueKind::kBool) {
          EXPECT_TRUE(ApplySetting(setting, "false", &c).ok());
        }
        break;
      }
    }
  }
  EXPECT_GE(refused, 5);
  EXPECT_GE(unused, 8);
}

TEST(GunicornSettingsTest, GunicornSpellingsAreAccepted) {
  for (const char* name : {"-k",
                           "--worker-class",
                           "-n",
                           "--name",
                           "-D",
                           "--daemon",
                           "--limit-request-field_size",
                           "--log-file",
                           "--paster",
                           "--no-sendfile",
                           "--reload-extra-file",
                           "--paste-global",
                           "--print-config",
                           "--check-config",
                           "--reuse-port",
                           "--statsd-host",
                           "--dogstatsd-tags",
                           "--statsd-prefix",
                           "--worker-connections",
                           "--worker-tmp-dir"})
    EXPECT_NE(FindSettingByName(name), nullptr) << name;
}

TEST(GunicornSettingsTest, WorkerClasses) {
  Config c;
  const Setting* k = FindSettingByName("-k");
  ASSERT_TRUE(
      ApplySetting(*k, "gunicorn.workers.gthread.ThreadWorker", &c).ok());
  EXPECT_EQ(c.worker_class, "gthread");
  ASSERT_TRUE(ApplySetting(*k, "sync", &c).ok());
  EXPECT_EQ(c.worker_class, "sync");
  for (const char* refused : {"gevent", "eventlet", "tornado",
                              "uvicorn.workers.UvicornWorker", "my.Worker"}) {
    Status s = ApplySetting(*k, refused, &c);
    ASSERT_FALSE(s.ok()) << refused;
    EXPECT_NE(s.message().find("instead"), std::string::npos) << s.message();
  }
}

// The README's migration table, as the settings table answers each setting.
std::string MigrationTable() {
  std::string text = "| Gunicorn setting | flags | here |\n|---|---|---|\n";
  for (const std::string& name : kGunicornSettings) {
    const Setting* row = RowFor(name);
    std::string flags, answer;
    if (auto owned = kFunctionsNotRows.find(name);
        owned != kFunctionsNotRows.end()) {
      answer = owned->second;
    } else if (name == "wsgi_app") {
      answer = "yes (the app, as in a gunicorn.conf.py)";
    } else {
      flags = "`" + row->flag + "`";
      for (const std::string& alias : row->aliases)
        flags += ", `" + alias + "`";
      answer = row->support == Support::kImplemented ? "yes"
               : row->support == Support::kRefused
                   ? "refused: " + row->why
                   : "accepted, " +
                         row->why.substr(row->why.find("changes nothing"));
    }
    text += "| `" + name + "` | " + flags + " | " + answer + " |\n";
  }
  return text;
}

TEST(GunicornSettingsTest, ReadmeMigrationTableMatches) {
  std::string readme = std::string(WSGID_SOURCE_DIR) + "/README.md";
  std::ifstream in(readme);
  ASSERT_TRUE(in) << readme;
  std::stringstream text;
  text << in.rdbuf();
  const std::string begin = "<!-- gunicorn-settings:begin -->\n";
  const std::string end = "<!-- gunicorn-settings:end -->";
  std::string all = text.str();
  size_t b = all.find(begin), e = all.find(end);
  ASSERT_TRUE(b != std::string::npos && e != std::string::npos);
  std::string table = all.substr(b + begin.size(), e - b - begin.size());
  EXPECT_EQ(table, MigrationTable())
      << "README.md's table is stale; between the markers it should read:\n"
      << MigrationTable();
}

}  // namespace
}  // namespace wsgid
