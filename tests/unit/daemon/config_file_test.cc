// Unit tests for daemon/config_file.h: the TOML subset of wsgid.toml,
// gunicorn.conf.py read through a Python subprocess, WSGID_* environment
// variables, and LoadConfig's precedence (defaults < file < environment <
// command line).
#include "daemon/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/settings.h"
#include "daemon/host_limits.h"

namespace wsgid {
namespace {

using Args = std::vector<std::string>;

::testing::AssertionResult Contains(const std::string& text,
                                    const std::string& part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "'" << text << "' does not contain '" << part << "'";
}

// A temporary directory (mkdtemp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() /
                           "wsgid_config_file_test.XXXXXX")
                              .string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  // Writes `content` to `name` in the directory; returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    std::string file = path_ + "/" + name;
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file;
  }

 private:
  std::string path_;
};

// A null-terminated NAME=VALUE array, as `environ` is.
class Environ {
 public:
  explicit Environ(std::vector<std::string> entries)
      : entries_(std::move(entries)) {
    for (std::string& e : entries_) pointers_.push_back(e.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

// Applies TOML text over the defaults, failing the test on an error.
Config MustApplyToml(const std::string& text) {
  Config config;
  Status s = ApplyToml(text, "wsgid.toml", &config);
  EXPECT_TRUE(s.ok()) << s.message();
  return config;
}

// The error applying TOML text gives ("" when it succeeds).
std::string TomlError(const std::string& text) {
  Config config;
  Status s = ApplyToml(text, "wsgid.toml", &config);
  EXPECT_FALSE(s.ok()) << "accepted: " << text;
  return s.message();
}

// Expects the error for `text` to name the origin with the line
// ("wsgid.toml:3:") and `key`.
void ExpectTomlError(const std::string& text, int line,
                     const std::string& key) {
  SCOPED_TRACE(text);
  std::string message = TomlError(text);
  EXPECT_TRUE(Contains(message, "wsgid.toml:" + std::to_string(line) + ":"));
  EXPECT_TRUE(Contains(message, key));
}

// Two lines before the line under test, so line numbers are not trivially 1.
constexpr const char* kPreamble = "# wsgid.toml\nworkers = 1\n";

// ---- The TOML subset
// ------------------------------------------------------------------

TEST(ConfigFileTomlTest, EmptyTextChangesNothing) {
  Config config = MustApplyToml("");
  EXPECT_EQ(config.workers, Config().workers);
  EXPECT_EQ(config.binds, Config().binds);
  config = MustApplyToml("\n\n   \n# only a comment\n");
  EXPECT_EQ(config.workers, Config().workers);
}

TEST(ConfigFileTomlTest, BasicStringWithEscapes) {
  Config config = MustApplyToml(R"(chdir = "/srv/a\tb\\c\"d\ne")");
  EXPECT_EQ(config.chdir, "/srv/a\tb\\c\"d\ne");
}

TEST(ConfigFileTomlTest, LiteralStringKeepsBackslashesAndDoubleQuotes) {
  Config config = MustApplyToml(R"(access_logformat = '%(h)s \n "%(r)s"')");
  EXPECT_EQ(config.access_logformat, R"(%(h)s \n "%(r)s")");
}

TEST(ConfigFileTomlTest, QuotesInsideTheOtherQuoteStyle) {
  Config config =
      MustApplyToml("server_header = \"it's\"\nchdir = 'say \"hi\"'\n");
  EXPECT_EQ(config.server_header, "it's");
  EXPECT_EQ(config.chdir, "say \"hi\"");
}

TEST(ConfigFileTomlTest, HashAndEqualsInsideStringsAreText) {
  Config config = MustApplyToml(
      "server_header = \"a # b = c\"  # a real comment\n"
      "access_logfile = '/var/log/#1.log'\n");
  EXPECT_EQ(config.server_header, "a # b = c");
  EXPECT_EQ(config.access_logfile, "/var/log/#1.log");
}

TEST(ConfigFileTomlTest, EmptyString) {
  Config config = MustApplyToml("server_header = \"\"\n");
  EXPECT_EQ(config.server_header, "");
}

TEST(ConfigFileTomlTest, UnsupportedEscapeIsAnError) {
  std::string message =
      TomlError(std::string(kPreamble) + R"(chdir = "a\qb")" + "\n");
  EXPECT_TRUE(Contains(message, "wsgid.toml:3:"));
  EXPECT_TRUE(Contains(message, "escape"));
}

TEST(ConfigFileTomlTest, IntegersWithUnderscoresAndSigns) {
  Config config = MustApplyToml(
      "backlog = 4_096\n"
      "workers = +3\n"
      "limit_request_body = -1\n"
      "limit_request_line = 0\n"
      "max_workers = 1_0\n");
  EXPECT_EQ(config.backlog, 4096);
  EXPECT_EQ(config.workers, 3);
  EXPECT_EQ(config.limit_request_body, -1);
  EXPECT_EQ(config.limit_request_line, 0);
  EXPECT_EQ(config.max_workers, 10);
  config = MustApplyToml("limit_request_body = 1_000_000_000_000\n");
  EXPECT_EQ(config.limit_request_body, int64_t{1000000000000});
}

TEST(ConfigFileTomlTest, FloatsAndIntegersForSeconds) {
  Config config = MustApplyToml(
      "timeout = 2.5\n"
      "keep_alive = 5\n"
      "graceful_timeout = 1_0.2_5\n"
      "request_timeout = 1e2\n"
      "abort_grace = +0.5\n");
  EXPECT_DOUBLE_EQ(config.timeout, 2.5);
  EXPECT_DOUBLE_EQ(config.keep_alive, 5);
  EXPECT_DOUBLE_EQ(config.graceful_timeout, 10.25);
  EXPECT_DOUBLE_EQ(config.request_timeout, 100);
  EXPECT_DOUBLE_EQ(config.abort_grace, 0.5);
}

TEST(ConfigFileTomlTest, Booleans) {
  Config config =
      MustApplyToml("permit_obsolete_folding = true\ncheck_config = false\n");
  EXPECT_TRUE(config.permit_obsolete_folding);
  EXPECT_FALSE(config.check_config);
  config = MustApplyToml("check_config = true\n");
  EXPECT_TRUE(config.check_config);
}

TEST(ConfigFileTomlTest, SingleLineArray) {
  Config config =
      MustApplyToml(R"(bind = ["127.0.0.1:8000", 'unix:/tmp/w.sock'])");
  EXPECT_EQ(config.binds,
            (std::vector<std::string>{"127.0.0.1:8000", "unix:/tmp/w.sock"}));
}

TEST(ConfigFileTomlTest, SingleLineArrayWithTrailingCommaAndComment) {
  Config config =
      MustApplyToml("env = [\"A=1\", \"B=x=y\",]  # two\nworkers = 2\n");
  EXPECT_EQ(config.env, (std::vector<std::pair<std::string, std::string>>{
                            {"A", "1"}, {"B", "x=y"}}));
  EXPECT_EQ(config.workers, 2);
}

TEST(ConfigFileTomlTest, MultiLineArrayWithCommentsAndTrailingComma) {
  Config config = MustApplyToml(
      "pythonpath = [\n"
      "  \"/srv/a\",  # first\n"
      "  # a whole comment line\n"
      "\n"
      "  '/srv/b',\n"
      "]\n"
      "workers = 4\n");
  EXPECT_EQ(config.pythonpath, (std::vector<std::string>{"/srv/a", "/srv/b"}));
  EXPECT_EQ(config.workers, 4);
}

TEST(ConfigFileTomlTest, EmptyArrayForBind) {
  Config config = MustApplyToml("bind = []\n");
  EXPECT_TRUE(config.binds.empty());
}

TEST(ConfigFileTomlTest, StringForAListIsOneItem) {
  Config config = MustApplyToml("bind = \"0.0.0.0:80\"\n");
  EXPECT_EQ(config.binds, (std::vector<std::string>{"0.0.0.0:80"}));
}

TEST(ConfigFileTomlTest, CommentsBlankLinesAndIndentation) {
  Config config = MustApplyToml(
      "# wsgid settings\n"
      "\n"
      "   # indented comment\n"
      "\t\n"
      "  workers = 3   # trailing comment\n"
      "threads\t=\t2\n"
      "\n"
      "# the end, no final newline\n"
      "backlog = 64");
  EXPECT_EQ(config.workers, 3);
  EXPECT_EQ(config.threads, 2);
  EXPECT_EQ(config.backlog, 64);
}

TEST(ConfigFileTomlTest, CrlfLineEnds) {
  Config config = MustApplyToml(
      "# crlf\r\n"
      "workers = 3\r\n"
      "\r\n"
      "chdir = \"/srv\"  # comment\r\n"
      "bind = [\r\n"
      "  \"a:1\",  # one\r\n"
      "  'b:2',\r\n"
      "]\r\n"
      "check_config = true\r\n");
  EXPECT_EQ(config.workers, 3);
  EXPECT_EQ(config.chdir, "/srv");
  EXPECT_EQ(config.binds, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(config.check_config);
}

TEST(ConfigFileTomlTest, CrlfErrorsCountLines) {
  ExpectTomlError("# crlf\r\nworkers = 1\r\nnope = 1\r\n", 3, "nope");
}

TEST(ConfigFileTomlTest, App) {
  EXPECT_EQ(MustApplyToml("app = \"mod:app\"\n").app, "mod:app");
  EXPECT_EQ(MustApplyToml("app = 'pkg.mod:create_app()'\n").app,
            "pkg.mod:create_app()");
}

TEST(ConfigFileTomlTest, KeysWithDashesOrUnderscores) {
  Config config =
      MustApplyToml("graceful-timeout = 7\nlimit_request_fields = 50\n");
  EXPECT_DOUBLE_EQ(config.graceful_timeout, 7);
  EXPECT_EQ(config.limit_request_fields, 50);
}

TEST(ConfigFileTomlTest, LaterKeyInTheSameFileWins) {
  EXPECT_EQ(MustApplyToml("workers = 2\nworkers = 5\n").workers, 5);
}

TEST(ConfigFileTomlTest, OtherSettings) {
  Config config = MustApplyToml(
      "header_map = \"refuse\"\n"
      "log_level = \"debug\"\n"
      "root_path = \"/api/\"\n"
      "error_logfile = \"/var/log/wsgid.log\"\n");
  EXPECT_EQ(config.header_map, HeaderMap::kRefuse);
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.root_path, "/api");
  EXPECT_EQ(config.error_logfile, "/var/log/wsgid.log");
}

// ---- TOML errors: origin, line and key
// ---------------------------------------------

TEST(ConfigFileTomlErrorTest, UnknownKey) {
  ExpectTomlError(std::string(kPreamble) + "no_such_setting = 1\n", 3,
                  "no_such_setting");
}

TEST(ConfigFileTomlErrorTest, WrongTypeForInt) {
  ExpectTomlError(std::string(kPreamble) + "workers = \"4\"\n", 3, "workers");
  ExpectTomlError(std::string(kPreamble) + "workers = 2.5\n", 3, "workers");
  ExpectTomlError(std::string(kPreamble) + "backlog = true\n", 3, "backlog");
}

TEST(ConfigFileTomlErrorTest, WrongTypeForSeconds) {
  ExpectTomlError(std::string(kPreamble) + "timeout = \"30\"\n", 3, "timeout");
  ExpectTomlError(std::string(kPreamble) + "keep_alive = [1]\n", 3,
                  "keep_alive");
}

TEST(ConfigFileTomlErrorTest, WrongTypeForString) {
  ExpectTomlError(std::string(kPreamble) + "chdir = 5\n", 3, "chdir");
  ExpectTomlError(std::string(kPreamble) + "log_level = [\"info\"]\n", 3,
                  "log_level");
  ExpectTomlError(std::string(kPreamble) + "app = 5\n", 3, "app");
}

TEST(ConfigFileTomlErrorTest, WrongTypeForBool) {
  ExpectTomlError(std::string(kPreamble) + "check_config = \"true\"\n", 3,
                  "check_config");
  ExpectTomlError(std::string(kPreamble) + "permit_obsolete_folding = 1\n", 3,
                  "permit_obsolete_folding");
}

TEST(ConfigFileTomlErrorTest, WrongTypeForList) {
  ExpectTomlError(std::string(kPreamble) + "bind = 8000\n", 3, "bind");
  ExpectTomlError(std::string(kPreamble) + "bind = [\"a:1\", 2]\n", 3, "bind");
  ExpectTomlError(std::string(kPreamble) + "pythonpath = true\n", 3,
                  "pythonpath");
}

TEST(ConfigFileTomlErrorTest, BadValueOfTheRightType) {
  ExpectTomlError(std::string(kPreamble) + "workers = 0\n", 3, "workers");
  ExpectTomlError(std::string(kPreamble) + "timeout = -1\n", 3, "timeout");
  ExpectTomlError(std::string(kPreamble) + "header_map = \"sometimes\"\n", 3,
                  "header");
  ExpectTomlError(std::string(kPreamble) + "env = [\"NOEQUALS\"]\n", 3, "env");
}

TEST(ConfigFileTomlErrorTest, Table) {
  std::string message =
      TomlError(std::string(kPreamble) + "[server]\nworkers = 2\n");
  EXPECT_TRUE(Contains(message, "wsgid.toml:3:"));
  EXPECT_TRUE(Contains(message, "table"));
}

TEST(ConfigFileTomlErrorTest, MissingEquals) {
  ExpectTomlError(std::string(kPreamble) + "workers 4\n", 3, "workers");
  ExpectTomlError(std::string(kPreamble) + "chdir\n", 3, "chdir");
}

TEST(ConfigFileTomlErrorTest, MissingKey) {
  std::string message = TomlError(std::string(kPreamble) + "= 4\n");
  EXPECT_TRUE(Contains(message, "wsgid.toml:3:"));
}

TEST(ConfigFileTomlErrorTest, UnquotedString) {
  std::string message =
      TomlError(std::string(kPreamble) + "chdir = /srv/app\n");
  EXPECT_TRUE(Contains(message, "wsgid.toml:3:"));
  EXPECT_TRUE(Contains(message, "quotes"));
}

// Regression (fixed): the unquoted-string error names the value and the line
// but not the key
// ("wsgid.toml:3: invalid value '/srv/app' (strings need quotes)").
TEST(ConfigFileTomlErrorTest, UnquotedStringNamesTheKey) {
  ExpectTomlError(std::string(kPreamble) + "chdir = /srv/app\n", 3, "chdir");
}

TEST(ConfigFileTomlErrorTest, UnterminatedString) {
  for (const std::string& text :
       {std::string(kPreamble) + "chdir = \"/srv/app\nworkers = 2\n",
        std::string(kPreamble) + "chdir = '/srv/app"}) {
    std::string message = TomlError(text);
    EXPECT_TRUE(Contains(message, "wsgid.toml:3:"));
    EXPECT_TRUE(Contains(message, "unterminated"));
  }
}

// Regression (fixed): the unterminated-string error does not name the key
// ("wsgid.toml:3: unterminated string").
TEST(ConfigFileTomlErrorTest, UnterminatedStringNamesTheKey) {
  ExpectTomlError(std::string(kPreamble) + "chdir = \"/srv/app\nworkers = 2\n",
                  3, "chdir");
  ExpectTomlError(std::string(kPreamble) + "chdir = '/srv/app", 3, "chdir");
}

TEST(ConfigFileTomlErrorTest, UnterminatedArray) {
  std::string message =
      TomlError(std::string(kPreamble) + "bind = [\"a:1\"\nworkers = 2\n");
  EXPECT_TRUE(Contains(message, "wsgid.toml:"));
}

TEST(ConfigFileTomlErrorTest, TextAfterValue) {
  ExpectTomlError(std::string(kPreamble) + "workers = 4 5\n", 3, "workers");
  ExpectTomlError(std::string(kPreamble) + "chdir = \"a\" \"b\"\n", 3, "chdir");
  ExpectTomlError(std::string(kPreamble) + "bind = [\"a:1\"] x\n", 3, "bind");
  ExpectTomlError(std::string(kPreamble) + "check_config = true false\r\n", 3,
                  "check_config");
}

TEST(ConfigFileTomlErrorTest, InternalWorkerSettingsAreNotAcceptedFromAFile) {
  ExpectTomlError(std::string(kPreamble) + "worker_id = 2\n", 3, "worker_id");
  ExpectTomlError(std::string(kPreamble) + "worker-ready-fd = 5\n", 3,
                  "worker-ready-fd");
  ExpectTomlError(std::string(kPreamble) + "worker_scoreboard_fd = 6\n", 3,
                  "worker_scoreboard_fd");
  ExpectTomlError(std::string(kPreamble) + "worker_listen_fds = [\"3\"]\n", 3,
                  "worker_listen_fds");
  ExpectTomlError(std::string(kPreamble) + "worker_listen_fds = \"3,4\"\n", 3,
                  "worker_listen_fds");
}

TEST(ConfigFileTomlErrorTest, MissingFileNamesIt) {
  Config config;
  Status s = ApplyTomlFile("/nonexistent/wsgid-config-file-test.toml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(
      Contains(s.message(), "/nonexistent/wsgid-config-file-test.toml"));
}

TEST(ConfigFileTomlErrorTest, FileErrorsNameThePath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path =
      dir.Write("bad.toml", "workers = 2\n\nthreads = \"two\"\n");
  Config config;
  Status s = ApplyTomlFile(path, &config);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), path + ":3:"));
  EXPECT_TRUE(Contains(s.message(), "threads"));
}

// ---- List settings: a later layer replaces the list
// ---------------------------------

TEST(ConfigFileListTest, ArrayInOneFileKeepsEveryItem) {
  Config config = MustApplyToml("bind = [\"a:1\", \"b:2\"]\nbind = \"c:3\"\n");
  // Within one layer, items accumulate.
  EXPECT_EQ(config.binds, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
}

TEST(ConfigFileListTest, SecondTomlLayerReplacesTheList) {
  Config config;
  ASSERT_TRUE(ApplyToml("bind = [\"a:1\", \"b:2\"]\n", "first", &config).ok());
  ASSERT_TRUE(ApplyToml("bind = [\"c:3\"]\n", "second", &config).ok());
  EXPECT_EQ(config.binds, (std::vector<std::string>{"c:3"}));
}

TEST(ConfigFileListTest, CommandLineBindReplacesTheFilesBind) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path =
      dir.Write("wsgid.toml",
                "app = \"mod:app\"\nbind = [\"0.0.0.0:80\", \"0.0.0.0:81\"]\n"
                "env = [\"A=1\"]\n");
  Environ env({});
  std::vector<std::string> warnings;
  auto config =
      LoadConfig({"-c", path, "-b", "127.0.0.1:9000", "--bind=127.0.0.1:9001"},
                 env.get(), &warnings);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->binds,
            (std::vector<std::string>{"127.0.0.1:9000", "127.0.0.1:9001"}));
  // A list the command line does not give stays as the file said.
  EXPECT_EQ(config->env,
            (std::vector<std::pair<std::string, std::string>>{{"A", "1"}}));
}

TEST(ConfigFileListTest, EnvironmentBindReplacesTheFilesBind) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path =
      dir.Write("wsgid.toml", "app = \"mod:app\"\nbind = [\"0.0.0.0:80\"]\n");
  Environ env({"WSGID_BIND=unix:/run/w.sock"});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"-c", path}, env.get(), &warnings);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->binds, (std::vector<std::string>{"unix:/run/w.sock"}));
}

TEST(ConfigFileListTest, ForwardedAllowIpsAsAString) {
  Config config =
      MustApplyToml("forwarded_allow_ips = \"10.0.0.1, 10.0.0.2\"\n");
  EXPECT_EQ(config.forwarded_allow_ips,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
}

// Regression (fixed): each item of a forwarded_allow_ips array replaces the
// whole list (the setting's apply assigns SplitList(item)), so only the last
// item survives.
TEST(ConfigFileListTest, ForwardedAllowIpsArrayKeepsEveryItem) {
  Config config =
      MustApplyToml("forwarded_allow_ips = [\"10.0.0.1\", \"10.0.0.2\"]\n");
  EXPECT_EQ(config.forwarded_allow_ips,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
}

// Regression (fixed): an empty array applies no item, so the list is never
// replaced and the default proxies (127.0.0.1, ::1) stay trusted.
TEST(ConfigFileListTest, EmptyForwardedAllowIpsArrayTrustsNoProxy) {
  Config config = MustApplyToml("forwarded_allow_ips = []\n");
  EXPECT_TRUE(config.forwarded_allow_ips.empty())
      << "still trusted: " << config.forwarded_allow_ips.size() << " addresses";
}

// ---- Precedence
// ---------------------------------------------------------------------

class ConfigFilePrecedenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.Write("wsgid.toml",
                       "app = \"mod:app\"\nworkers = 2\ntimeout = 10\n");
  }
  StatusOr<Config> Load(const Args& args, std::vector<std::string> environ) {
    Environ env(std::move(environ));
    std::vector<std::string> warnings;
    auto config = LoadConfig(args, env.get(), &warnings);
    EXPECT_TRUE(warnings.empty());
    return config;
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(ConfigFilePrecedenceTest, FileOverDefaults) {
  auto config = Load({"-c", path_}, {});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 2);
  EXPECT_DOUBLE_EQ(config->timeout, 10);
  EXPECT_EQ(config->threads, Config().threads);
  EXPECT_EQ(config->config_file, path_);
}

TEST_F(ConfigFilePrecedenceTest, EnvironmentOverFile) {
  auto config = Load({"-c", path_}, {"WSGID_WORKERS=3"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 3);
  EXPECT_DOUBLE_EQ(config->timeout, 10);
}

TEST_F(ConfigFilePrecedenceTest, CommandLineOverEnvironmentAndFile) {
  auto config = Load({"-c", path_, "-w", "4"}, {"WSGID_WORKERS=3"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 4);
  config = Load({"--workers=5", "--config", path_}, {"WSGID_WORKERS=3"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 5);
}

TEST_F(ConfigFilePrecedenceTest, EnvironmentWithoutAFile) {
  auto config = Load({"mod:app"}, {"WSGID_WORKERS=3"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 3);
  EXPECT_EQ(config->app, "mod:app");
}

// Regression (fixed): ConfigLayer::Set treats "false" for a switch as "leave
// it", so a later layer cannot turn off a switch an earlier layer turned on.
TEST_F(ConfigFilePrecedenceTest, EnvironmentFalseTurnsOffAFileSwitch) {
  std::string path = dir_.Write(
      "switch.toml", "app = \"mod:app\"\npermit_obsolete_folding = true\n");
  auto config = Load({"-c", path}, {"WSGID_PERMIT_OBSOLETE_FOLDING=false"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_FALSE(config->permit_obsolete_folding);
}

// Regression (fixed): the command line's positional app is rejected when the
// file names an app
// ("unexpected argument ... (the app is ...)") instead of overriding it.
TEST_F(ConfigFilePrecedenceTest, CommandLineAppOverridesTheFilesApp) {
  auto config = Load({"-c", path_, "other:application"}, {});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->app, "other:application");
}

// ---- The environment
// ----------------------------------------------------------------

TEST(ConfigFileEnvTest, AppliesWsgidVariables) {
  Environ env({"PATH=/usr/bin", "WSGID_TIMEOUT=2.5", "WSGID_GRACEFUL_TIMEOUT=5",
               "WSGID_ACCESS_LOGFILE=-", "WSGID_PYTHONPATH=/a,/b",
               "WSGID_LOG_LEVEL=debug", "WSGID_CHECK_CONFIG=true",
               "WSGID_ENV=A=1"});
  Config config;
  Status s = ApplyEnvironment(env.get(), &config);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_DOUBLE_EQ(config.timeout, 2.5);
  EXPECT_DOUBLE_EQ(config.graceful_timeout, 5);
  EXPECT_EQ(config.access_logfile, "-");
  EXPECT_EQ(config.pythonpath, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_TRUE(config.check_config);
  EXPECT_EQ(config.env,
            (std::vector<std::pair<std::string, std::string>>{{"A", "1"}}));
}

TEST(ConfigFileEnvTest, IgnoresUnknownAndUnrelatedNames) {
  Environ env({"WSGID_BIN_DIR=/work/build/bin", "WORKERS=9", "wsgid_workers=9",
               "WSGID_NO_SUCH_THING=x", "WSGID_", "WSGID_=1", "NOEQUALS"});
  Config config;
  Status s = ApplyEnvironment(env.get(), &config);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.workers, Config().workers);
}

TEST(ConfigFileEnvTest, IgnoresInternalWorkerSettings) {
  Environ env({"WSGID_WORKER_ID=7", "WSGID_WORKER_READY_FD=5"});
  Config config;
  Status s = ApplyEnvironment(env.get(), &config);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.worker_id, 0);
  EXPECT_EQ(config.worker_ready_fd, -1);
}

TEST(ConfigFileEnvTest, NullEnvironIsEmpty) {
  Config config;
  EXPECT_TRUE(ApplyEnvironment(nullptr, &config).ok());
}

TEST(ConfigFileEnvTest, BadValueNamesTheVariable) {
  {
    Environ env({"WSGID_BIN_DIR=/x", "WSGID_WORKERS=many"});
    Config config;
    Status s = ApplyEnvironment(env.get(), &config);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(Contains(s.message(), "WSGID_WORKERS"));
    EXPECT_TRUE(Contains(s.message(), "many"));
  }
  {
    Environ env({"WSGID_TIMEOUT=-1"});
    Config config;
    Status s = ApplyEnvironment(env.get(), &config);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(Contains(s.message(), "WSGID_TIMEOUT"));
  }
  {
    Environ env({"WSGID_PERMIT_OBSOLETE_FOLDING=yes"});
    Config config;
    Status s = ApplyEnvironment(env.get(), &config);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(Contains(s.message(), "WSGID_PERMIT_OBSOLETE_FOLDING"));
  }
}

TEST(ConfigFileEnvTest, LoadConfigReportsABadVariable) {
  Environ env({"WSGID_BACKLOG=lots"});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"mod:app"}, env.get(), &warnings);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.status().message(), "WSGID_BACKLOG"));
}

// ---- the default worker count
// --------------------------------------------------------

TEST(DefaultWorkersTest, RuleOfThumbFromTheCoresAllowed) {
  Environ env({});
  auto config = LoadConfig({"mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 2 * AvailableCores() + 1);
}

TEST(DefaultWorkersTest, WebConcurrencyAsGunicornReadsIt) {
  Environ env({"WEB_CONCURRENCY=3"});
  auto config = LoadConfig({"mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 3);
  // -w (or the file, or WSGID_WORKERS) wins over it.
  config = LoadConfig({"-w", "2", "mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->workers, 2);
}

TEST(DefaultWorkersTest, BadWebConcurrencyIsAnError) {
  for (const char* bad :
       {"WEB_CONCURRENCY=", "WEB_CONCURRENCY=0", "WEB_CONCURRENCY=four",
        "WEB_CONCURRENCY=3x", "WEB_CONCURRENCY=99999999999"}) {
    Environ env({bad});
    auto config = LoadConfig({"mod:app"}, env.get(), nullptr);
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_TRUE(Contains(config.status().message(), "WEB_CONCURRENCY")) << bad;
  }
}

TEST(DefaultWorkersTest, KeptWithinTheScalerBounds) {
  Environ env({"WEB_CONCURRENCY=40"});
  auto config =
      LoadConfig({"--max-workers", "6", "mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->workers, 6);
  Environ one({"WEB_CONCURRENCY=1"});
  config = LoadConfig({"--autoscale", "--min-workers", "2", "mod:app"},
                      one.get(), nullptr);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->workers, 2);
}

// ---- gunicorn.conf.py
// ---------------------------------------------------------------

class ConfigFileGunicornTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  // Writes `python` to a .py file and applies it; the path goes to *path.
  Status Apply(const std::string& python, Config* config,
               std::vector<std::string>* warnings, std::string* path = nullptr,
               const std::string& name = "gunicorn.conf.py") {
    std::string file = dir_.Write(name, python);
    if (path != nullptr) *path = file;
    return ApplyGunicornFile(file, config, warnings);
  }
  TempDir dir_;
};

TEST_F(ConfigFileGunicornTest, MapsGunicornNames) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply(
      "bind = '127.0.0.1:9000'\n"
      "workers = 3\n"
      "threads = 2\n"
      "keepalive = 5\n"
      "timeout = 60\n"
      "graceful_timeout = 7.5\n"
      "accesslog = '-'\n"
      "errorlog = '/var/log/err.log'\n"
      "access_log_format = '%(h)s %(r)s'\n"
      "loglevel = 'warning'\n"
      "raw_env = ['A=1', 'B=two=2']\n"
      "pythonpath = '/srv/a,/srv/b'\n"
      "chdir = '/srv'\n"
      "backlog = 128\n"
      "limit_request_line = 0\n"
      "limit_request_fields = 50\n"
      "limit_request_field_size = 1024\n"
      "forwarded_allow_ips = '10.0.0.1,10.0.0.2'\n"
      "header_map = 'refuse'\n"
      "permit_obsolete_folding = True\n"
      "wsgi_app = 'proj.wsgi:application'\n",
      &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(config.binds, (std::vector<std::string>{"127.0.0.1:9000"}));
  EXPECT_EQ(config.workers, 3);
  EXPECT_EQ(config.threads, 2);
  EXPECT_DOUBLE_EQ(config.keep_alive, 5);
  EXPECT_DOUBLE_EQ(config.timeout, 60);
  EXPECT_DOUBLE_EQ(config.graceful_timeout, 7.5);
  EXPECT_EQ(config.access_logfile, "-");
  EXPECT_EQ(config.error_logfile, "/var/log/err.log");
  EXPECT_EQ(config.access_logformat, "%(h)s %(r)s");
  EXPECT_EQ(config.log_level, "warning");
  EXPECT_EQ(config.env, (std::vector<std::pair<std::string, std::string>>{
                            {"A", "1"}, {"B", "two=2"}}));
  EXPECT_EQ(config.pythonpath, (std::vector<std::string>{"/srv/a", "/srv/b"}));
  EXPECT_EQ(config.chdir, "/srv");
  EXPECT_EQ(config.backlog, 128);
  EXPECT_EQ(config.limit_request_line, 0);
  EXPECT_EQ(config.limit_request_fields, 50);
  EXPECT_EQ(config.limit_request_field_size, 1024);
  EXPECT_EQ(config.forwarded_allow_ips,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(config.header_map, HeaderMap::kRefuse);
  EXPECT_TRUE(config.permit_obsolete_folding);
  EXPECT_EQ(config.app, "proj.wsgi:application");
}

TEST_F(ConfigFileGunicornTest, BindAsAList) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply("bind = ['0.0.0.0:8000', 'unix:/run/g.sock']\n", &config,
                   &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.binds,
            (std::vector<std::string>{"0.0.0.0:8000", "unix:/run/g.sock"}));
  s = Apply("bind = ('[::1]:8000',)\n", &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  // A second file is a new layer: its list replaces the first's.
  EXPECT_EQ(config.binds, (std::vector<std::string>{"[::1]:8000"}));
}

TEST_F(ConfigFileGunicornTest, UnsupportedSettingsWarnOnceEach) {
  // (A hook function is not unsupported: issue 15 runs them.)
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply(
      "timeuot = 30\n"
      "wrokers = 3\n"
      "def post_fork(server, worker):\n"
      "    pass\n"
      "workers = 2\n",
      &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.workers, 2);
  std::string all;
  for (const std::string& w : warnings) all += w + "\n";
  EXPECT_EQ(warnings.size(), 2u) << all;
  EXPECT_NE(config.worker_hooks_file, "");
  for (const char* name : {"wrokers", "timeuot"}) {
    int count = 0;
    for (const std::string& w : warnings)
      if (w.find("'" + std::string(name) + "'") != std::string::npos) ++count;
    EXPECT_EQ(count, 1) << name;
  }
}

// issue 15: a refused value is an error naming the key, why and what instead.
TEST_F(ConfigFileGunicornTest, RefusedValuesAreErrors) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply("worker_class = 'gevent'\n", &config, &warnings);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "'worker_class'"));
  EXPECT_TRUE(Contains(s.message(), "instead"));
  s = Apply("reload = False\nspew = False\n", &config, &warnings);
  EXPECT_TRUE(s.ok()) << s.message();  // Gunicorn's --print-config output
}

// issue 15: nothing is ignored in silence: every global but modules, _names
// and what the file imported is named.
TEST_F(ConfigFileGunicornTest, EveryOtherGlobalIsNamed) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply(
      "import os\n"
      "import multiprocessing\n"
      "from os import path as ospath\n"
      "_base_port = 8000\n"
      "HOST = '127.0.0.1'\n"
      "def helper(n):\n"
      "    return n + 1\n"
      "class Settings:\n"
      "    pass\n"
      "bind = [f'{HOST}:{_base_port + i}' for i in range(2)]\n"
      "workers = helper(2)\n",
      &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  std::string all;
  for (const std::string& w : warnings) all += w + "\n";
  EXPECT_EQ(warnings.size(), 3u) << all;
  for (const char* named : {"'HOST'", "'helper'", "'Settings'"})
    EXPECT_TRUE(Contains(all, named));
  for (const char* quiet : {"'os'", "multiprocessing", "ospath", "_base_port"})
    EXPECT_FALSE(Contains(all, quiet));
  EXPECT_EQ(config.binds,
            (std::vector<std::string>{"127.0.0.1:8000", "127.0.0.1:8001"}));
  EXPECT_EQ(config.workers, 3);
}

TEST_F(ConfigFileGunicornTest, EmptyFile) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply("", &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(config.workers, Config().workers);
}

TEST_F(ConfigFileGunicornTest, SyntaxErrorIsAnError) {
  Config config;
  std::vector<std::string> warnings;
  std::string path;
  Status s = Apply("workers = (\n", &config, &warnings, &path);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), path));
}

TEST_F(ConfigFileGunicornTest, ExceptionIsAnError) {
  Config config;
  std::vector<std::string> warnings;
  std::string path;
  Status s = Apply("workers = 2\nraise RuntimeError('no')\n", &config,
                   &warnings, &path);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), path));
}

TEST_F(ConfigFileGunicornTest, MissingFileIsAnError) {
  Config config;
  std::vector<std::string> warnings;
  Status s =
      ApplyGunicornFile("/nonexistent/gunicorn.conf.py", &config, &warnings);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "/nonexistent/gunicorn.conf.py"));
}

TEST_F(ConfigFileGunicornTest, BadValueNamesTheSetting) {
  Config config;
  std::vector<std::string> warnings;
  std::string path;
  Status s = Apply("workers = 'many'\n", &config, &warnings, &path);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), path));
  EXPECT_TRUE(Contains(s.message(), "workers"));
  s = Apply("keepalive = 'long'\n", &config, &warnings, &path);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "keepalive"));
}

TEST_F(ConfigFileGunicornTest, PathWithAQuote) {
  Config config;
  std::vector<std::string> warnings;
  Status s =
      Apply("workers = 6\n", &config, &warnings, nullptr, "it's a $conf.py");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.workers, 6);
}

// Regression (fixed): `accesslog = None` (Gunicorn's default, common in real
// files) is rejected as "an unusable value" instead of leaving the access log
// off.
TEST_F(ConfigFileGunicornTest, NoneMeansTheDefault) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply("accesslog = None\nworkers = 2\n", &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.access_logfile, "");
  EXPECT_EQ(config.workers, 2);
}

// Regression (fixed): the file's own stdout shares the pipe the reader prints
// its JSON to, so a print() in the config file makes the output unreadable.
TEST_F(ConfigFileGunicornTest, PrintInTheFileIsHarmless) {
  Config config;
  std::vector<std::string> warnings;
  Status s = Apply("print('loading gunicorn config')\nworkers = 2\n", &config,
                   &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.workers, 2);
}

// ---- Every row of the settings table, through each reader

// The config the command line makes of a row's example (what every reader
// must agree with).
Config FromCommandLine(const Setting& setting) {
  std::vector<std::string> args = {setting.flag + "=" + setting.example};
  if (setting.field.kind == ValueKind::kBool) args = {setting.flag};
  auto config = ParseCommandLine(args);
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : Config{};
}

// The example as a quoted string for TOML (a literal string) or Python.
std::string Quoted(const Setting& setting) {
  EXPECT_EQ(setting.example.find('\''), std::string::npos) << setting.flag;
  return "'" + setting.example + "'";
}

// The example as a TOML value of the row's kind.
std::string TomlValueOf(const Setting& setting) {
  switch (setting.field.kind) {
    case ValueKind::kBool:
      return "true";
    case ValueKind::kInt:
    case ValueKind::kSeconds:
      return setting.example;
    case ValueKind::kList:
      return "[" + Quoted(setting) + "]";
    case ValueKind::kString:
    case ValueKind::kSize:
      return Quoted(setting);
  }
  return "";
}

TEST(ConfigFileTableTest, EveryPublicRowFromToml) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.internal || setting.support == Support::kRefused) continue;
    SCOPED_TRACE(setting.flag);
    Config config;
    std::string line = SettingKey(setting) + " = " + TomlValueOf(setting);
    Status s = ApplyToml(line, "wsgid.toml", &config);
    ASSERT_TRUE(s.ok()) << line << ": " << s.message();
    EXPECT_TRUE(setting.field.same(config, FromCommandLine(setting))) << line;
  }
}

TEST(ConfigFileTableTest, EveryPublicRowFromTheEnvironment) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.internal || setting.support == Support::kRefused) continue;
    SCOPED_TRACE(setting.flag);
    std::string value =
        setting.field.kind == ValueKind::kBool ? "true" : setting.example;
    Environ env({SettingEnvVar(setting) + "=" + value});
    Config config;
    Status s = ApplyEnvironment(env.get(), &config);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(setting.field.same(config, FromCommandLine(setting)));
  }
}

// One gunicorn.conf.py setting every Gunicorn name of the table (as a Python
// string, or True): each reaches its row, none is warned about.
TEST(ConfigFileTableTest, EveryGunicornNameFromGunicornConf) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string python;
  for (const Setting& setting : SettingsTable()) {
    if (setting.gunicorn.empty() || setting.support == Support::kRefused)
      continue;
    python +=
        setting.gunicorn + " = " +
        (setting.field.kind == ValueKind::kBool ? "True" : Quoted(setting)) +
        "\n";
  }
  Config config;
  std::vector<std::string> warnings;
  Status s = ApplyGunicornFile(dir.Write("gunicorn.conf.py", python), &config,
                               &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  int rows = 0;
  for (const Setting& setting : SettingsTable()) {
    if (setting.gunicorn.empty() || setting.support == Support::kRefused)
      continue;
    EXPECT_TRUE(setting.field.same(config, FromCommandLine(setting)))
        << setting.gunicorn;
    ++rows;
  }
  EXPECT_GE(rows, 25);
}

// Python reads umask = 0o027 as the number 23; it is the mask 027.
TEST(ConfigFileTableTest, GunicornUmaskAsAPythonOctalNumber) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Config config;
  std::vector<std::string> warnings;
  Status s = ApplyGunicornFile(
      dir.Write("gunicorn.conf.py",
                "umask = 0o027\npidfile = '/run/g.pid'\nmax_requests = 500\n"),
      &config, &warnings);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(config.umask, 027);
  EXPECT_EQ(config.pidfile, "/run/g.pid");
  EXPECT_EQ(config.max_requests, 500);
}

// ---- LoadConfig end to end
// ----------------------------------------------------------

class ConfigFileLoadTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  TempDir dir_;
};

TEST_F(ConfigFileLoadTest, TomlFile) {
  std::string path = dir_.Write("wsgid.toml",
                                "# production\n"
                                "app = \"proj.wsgi:application\"\n"
                                "bind = [\"0.0.0.0:8000\"]\n"
                                "workers = 2\n"
                                "timeout = 45.5\n"
                                "access_logfile = \"-\"\n");
  Environ env({"WSGID_BIN_DIR=/x", "WSGID_THREADS=4"});
  std::vector<std::string> warnings;
  auto config =
      LoadConfig({"-c", path, "--max-workers", "8"}, env.get(), &warnings);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(config->app, "proj.wsgi:application");
  EXPECT_EQ(config->binds, (std::vector<std::string>{"0.0.0.0:8000"}));
  EXPECT_EQ(config->workers, 2);
  EXPECT_EQ(config->threads, 4);
  EXPECT_EQ(config->max_workers, 8);
  EXPECT_DOUBLE_EQ(config->timeout, 45.5);
  EXPECT_EQ(config->access_logfile, "-");
  EXPECT_EQ(config->config_file, path);
  EXPECT_TRUE(ValidateConfig(*config).ok())
      << ValidateConfig(*config).message();
}

TEST_F(ConfigFileLoadTest, GunicornFile) {
  std::string path = dir_.Write("gunicorn.conf.py",
                                "import multiprocessing\n"
                                "bind = '127.0.0.1:8001'\n"
                                "workers = 2\n"
                                "keepalive = 3\n"
                                "wrokers = 4\n");
  Environ env({"WSGID_WORKERS=3"});
  std::vector<std::string> warnings;
  auto config =
      LoadConfig({"--config=" + path, "-b", "127.0.0.1:9000", "mod:app"},
                 env.get(), &warnings);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->app, "mod:app");
  EXPECT_EQ(config->binds, (std::vector<std::string>{"127.0.0.1:9000"}));
  EXPECT_EQ(config->workers, 3);
  EXPECT_DOUBLE_EQ(config->keep_alive, 3);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(Contains(warnings[0], "wrokers"));
  EXPECT_TRUE(Contains(warnings[0], path));
}

TEST_F(ConfigFileLoadTest, TomlErrorIsReturned) {
  std::string path =
      dir_.Write("bad.toml", "app = \"mod:app\"\nworkers = \"two\"\n");
  Environ env({});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"-c", path}, env.get(), &warnings);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.status().message(), path + ":2:"));
  EXPECT_TRUE(Contains(config.status().message(), "workers"));
}

TEST_F(ConfigFileLoadTest, GunicornErrorIsReturned) {
  std::string path = dir_.Write("broken.conf.py", "def (:\n");
  Environ env({});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"-c", path, "mod:app"}, env.get(), &warnings);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.status().message(), path));
}

TEST_F(ConfigFileLoadTest, MissingFileIsAnError) {
  Environ env({});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"-c", "/nonexistent/wsgid.toml", "mod:app"},
                           env.get(), &warnings);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.status().message(), "/nonexistent/wsgid.toml"));
}

TEST_F(ConfigFileLoadTest, CommandLineErrorComesFirst) {
  std::string path = dir_.Write("wsgid.toml", "workers = 2\n");
  Environ env({});
  std::vector<std::string> warnings;
  auto config =
      LoadConfig({"-c", path, "--no-such-flag"}, env.get(), &warnings);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.status().message(), "--no-such-flag"));
}

TEST_F(ConfigFileLoadTest, NoFile) {
  Environ env({});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"-w", "2", "mod:app"}, env.get(), &warnings);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 2);
  EXPECT_EQ(config->app, "mod:app");
  EXPECT_TRUE(config->config_file.empty());
}

// ---- issue 15: Gunicorn's other sources ----

TEST(GunicornSourcesTest, CmdArgsSitBetweenTheEnvironmentAndTheFlags) {
  Environ env(
      {"GUNICORN_CMD_ARGS=--workers 3 --access-logformat '%(h)s \"x\"'"
       " -b \"127.0.0.1:1\"",
       "WSGID_WORKERS=2"});
  auto config = LoadConfig({"mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 3);
  EXPECT_EQ(config->access_logformat, "%(h)s \"x\"");
  EXPECT_EQ(config->binds, std::vector<std::string>{"127.0.0.1:1"});
  EXPECT_EQ(config->sources["workers"], "environment");
  config = LoadConfig({"-w", "4", "mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->workers, 4);
  EXPECT_EQ(config->sources["workers"], "flag");
}

TEST(GunicornSourcesTest, BadCmdArgsAreNamed) {
  for (const char* bad :
       {"GUNICORN_CMD_ARGS=--workers 'x", "GUNICORN_CMD_ARGS=--nope"}) {
    Environ env({bad});
    auto config = LoadConfig({"mod:app"}, env.get(), nullptr);
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_TRUE(Contains(config.status().message(), "GUNICORN_CMD_ARGS"));
  }
}

TEST(GunicornSourcesTest, PortBindsAllInterfacesWhenNoBindIsGiven) {
  Environ env({"PORT=5000", "WEB_CONCURRENCY=2"});
  auto config = LoadConfig({"mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->binds, std::vector<std::string>{"0.0.0.0:5000"});
  EXPECT_EQ(config->sources["bind"], "environment");
  EXPECT_EQ(config->sources["workers"], "environment");
  config = LoadConfig({"-b", "127.0.0.1:1", "mod:app"}, env.get(), nullptr);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->binds, std::vector<std::string>{"127.0.0.1:1"});
}

TEST(GunicornSourcesTest, FileKeysNamedInWarnings) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.Write("g.conf.py",
                               "import os\nworkers = 2\nworkres = 3\n"
                               "preload_app = True\nops_bind = 'off'\n"
                               "secure_scheme_headers = {'X-S': 'on'}\n");
  Environ env({});
  std::vector<std::string> warnings;
  auto config = LoadConfig({"-c", path, "mod:app"}, env.get(), &warnings);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->workers, 2);
  EXPECT_EQ(config->ops_bind,
            "off");  // wsgid's own key, as --print-config writes
  EXPECT_EQ(config->secure_scheme_headers, std::vector<std::string>{"X-S=on"});
  EXPECT_EQ(config->sources["workers"], "file");
  EXPECT_TRUE(config->preload);  // preload_app (issue 16)
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(Contains(warnings[0], "'workres' is neither"));
}

// ---- The app's virtualenv (issue 14)
// ----------------------------------------------------------

// A stand-in virtualenv: a pyvenv.cfg, and a bin/python3 that answers as the
// gunicorn.conf.py reader does, with workers = 7: a file read by it says 7,
// one read by the embedded Python says what the file says.
class VirtualenvLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    venv_ = dir_.path() + "/venv";
    std::filesystem::create_directories(venv_ + "/bin");
    dir_.Write("venv/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.2\n");
    std::string python =
        dir_.Write("venv/bin/python3", "#!/bin/sh\necho '{\"workers\": 7}'\n");
    std::filesystem::permissions(python, std::filesystem::perms::owner_all);
    conf_ = dir_.Write("gunicorn.conf.py", "workers = 2\n");
  }
  // LoadConfig run from `cwd` (then back where the test was).
  StatusOr<Config> LoadIn(const std::string& cwd, const Args& args,
                          std::vector<std::string> environ = {},
                          const std::string& installed_in = "") {
    auto here = std::filesystem::current_path();
    std::filesystem::current_path(cwd);
    Environ env(std::move(environ));
    auto config = LoadConfig(args, env.get(), nullptr, installed_in);
    std::filesystem::current_path(here);
    return config;
  }
  TempDir dir_;
  std::string venv_;
  std::string conf_;
};

TEST_F(VirtualenvLoadTest, RelativePathIsMadeAbsoluteFromTheStartDirectory) {
  // --chdir does not move it: the workers check the folder the master did.
  std::filesystem::create_directories(dir_.path() + "/app");
  for (const char* given : {"venv", "./venv/", "app/../venv"}) {
    auto config =
        LoadIn(dir_.path(), {"--chdir", "app", "--virtualenv", given, "m:a"});
    ASSERT_TRUE(config.ok()) << config.status().message();
    EXPECT_EQ(config->virtualenv, venv_) << given;
  }
  auto config = LoadIn(dir_.path() + "/app", {"m:a"}, {"VIRTUAL_ENV=../venv"});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->virtualenv, venv_);
}

TEST_F(VirtualenvLoadTest, DefaultIsVirtualEnvThenWhereWsgidIsInstalled) {
  auto config = LoadIn(dir_.path(), {"m:a"}, {"VIRTUAL_ENV=/srv/a"}, "/srv/b");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->virtualenv, "/srv/a");
  EXPECT_EQ(config->sources["virtualenv"], "environment");
  config = LoadIn(dir_.path(), {"m:a"}, {}, "/srv/b");
  EXPECT_EQ(config->virtualenv, "/srv/b");
  EXPECT_EQ(config->sources.count("virtualenv"), 0u);  // a default
  config = LoadIn(dir_.path(), {"-H", "/srv/c", "m:a"}, {"VIRTUAL_ENV=/srv/a"},
                  "/srv/b");
  EXPECT_EQ(config->virtualenv, "/srv/c");
  config = LoadIn(dir_.path(), {"m:a"}, {"WSGID_VIRTUALENV=/srv/d"}, "/srv/b");
  EXPECT_EQ(config->virtualenv, "/srv/d");
  config = LoadIn(dir_.path(), {"m:a"});
  EXPECT_EQ(config->virtualenv, "");
}

TEST_F(VirtualenvLoadTest, GunicornFileIsReadByTheVirtualenvsPython) {
  auto workers = [&](const Args& args, std::vector<std::string> environ = {},
                     const std::string& installed_in = "") {
    auto config = LoadIn(dir_.path(), args, std::move(environ), installed_in);
    EXPECT_TRUE(config.ok()) << config.status().message();
    return config.ok() ? config->workers : -1;
  };
  EXPECT_EQ(workers({"-c", conf_, "m:a"}), 2);
  EXPECT_EQ(workers({"-c", conf_, "--virtualenv", "venv", "m:a"}), 7);
  EXPECT_EQ(workers({"-c", conf_, "m:a"}, {"VIRTUAL_ENV=" + venv_}), 7);
  EXPECT_EQ(workers({"-c", conf_, "m:a"}, {"WSGID_VIRTUALENV=venv"}), 7);
  EXPECT_EQ(workers({"-c", conf_, "m:a"}, {}, venv_), 7);
  EXPECT_EQ(workers({"m:a"}, {"GUNICORN_CMD_ARGS=-c " + conf_ + " -H venv"}),
            7);
  // No virtualenv there: the embedded Python reads it, and the start-up
  // check (daemon/embedded_python.h) says what is wrong with the path.
  EXPECT_EQ(workers({"-c", conf_, "--virtualenv", "app", "m:a"}), 2);
}

}  // namespace
}  // namespace wsgid
