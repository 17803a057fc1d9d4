// Unit tests for common/settings.h: every row of the settings table, checked
// row by row, so a new row is tested the moment it is added: its example
// survives the trip through ToArgs to a worker and back, it has help, its names
// are unique, files and the environment reach it by its key.
#include "common/settings.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"

namespace wsgid {
namespace {

using Args = std::vector<std::string>;

// A config with only the app and `setting` at its example value, as the
// command line gives it.
Config WithExample(const Setting& setting) {
  Args args = {setting.field.kind == ValueKind::kBool
                   ? setting.flag
                   : setting.flag + "=" + setting.example,
               "a:b"};
  StatusOr<Config> c = ParseCommandLine(args);
  EXPECT_TRUE(c.ok()) << setting.flag << ": " << c.status().message();
  return c.ok() ? *c : Config{};
}

// The command-line names of a row: its flag and aliases.
std::vector<std::string> NamesOf(const Setting& setting) {
  std::vector<std::string> names = {setting.flag};
  names.insert(names.end(), setting.aliases.begin(), setting.aliases.end());
  return names;
}

TEST(SettingsTest, TableIsNotEmpty) { EXPECT_GT(SettingsTable().size(), 40u); }

// The round trip, row by row: a non-default value set, written by ToArgs,
// parsed back. A row ToArgs leaves out (or writes so it reads back otherwise)
// fails here.
TEST(SettingsTest, EveryRowRoundTripsThroughToArgs) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.support == Support::kRefused) continue;  // no value to keep
    SCOPED_TRACE(setting.flag);
    Config c = WithExample(setting);
    EXPECT_FALSE(setting.field.same(c, Config{}))
        << "the example is the default";
    Args args = ToArgs(c, Needs::kBoth);
    StatusOr<Config> back = ParseCommandLine(args);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(setting.field.same(*back, c)) << "lost on the way";
    EXPECT_EQ(back->app, "a:b");
  }
}

// What the master hands a worker: the rows a worker needs, no others.
TEST(SettingsTest, WorkerGetsExactlyTheRowsItNeeds) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.support == Support::kRefused) continue;  // no value to keep
    SCOPED_TRACE(setting.flag);
    Config c = WithExample(setting);
    StatusOr<Config> back = ParseCommandLine(ToArgs(c));
    ASSERT_TRUE(back.ok()) << back.status().message();
    if (NeededBy(setting.needs, Needs::kWorker))
      EXPECT_TRUE(setting.field.same(*back, c));
    else
      EXPECT_TRUE(setting.field.same(*back, Config{}))
          << "a master-only setting reached the worker";
  }
}

// The master's own command line (ToArgs(c, kMaster)) carries its rows.
TEST(SettingsTest, MasterRowsRoundTripOnTheirOwn) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.support == Support::kRefused) continue;  // no value to keep
    if (!NeededBy(setting.needs, Needs::kMaster)) continue;
    SCOPED_TRACE(setting.flag);
    Config c = WithExample(setting);
    StatusOr<Config> back = ParseCommandLine(ToArgs(c, Needs::kMaster));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(setting.field.same(*back, c));
  }
}

TEST(SettingsTest, EveryRowHasHelpAndAValueName) {
  for (const Setting& setting : SettingsTable()) {
    SCOPED_TRACE(setting.flag);
    EXPECT_FALSE(setting.help.empty());
    EXPECT_NE(setting.help.back(), '\n');
    bool is_switch = setting.field.kind == ValueKind::kBool;
    EXPECT_EQ(setting.metavar.empty(), is_switch)
        << "a value name for every setting that takes a value, none otherwise";
    EXPECT_TRUE(setting.field.parse && setting.field.format &&
                setting.field.same);
    EXPECT_EQ(static_cast<bool>(setting.field.clear),
              setting.field.kind == ValueKind::kList);
  }
}

TEST(SettingsTest, NamesAreWellFormedAndUnique) {
  std::set<std::string> names, keys, variables, gunicorn;
  for (const Setting& setting : SettingsTable()) {
    SCOPED_TRACE(setting.flag);
    EXPECT_EQ(setting.flag.rfind("--", 0), 0u);
    EXPECT_GT(setting.flag.size(), 3u);
    for (const std::string& alias : setting.aliases)
      EXPECT_TRUE((alias.size() == 2 && alias[0] == '-' && alias[1] != '-') ||
                  (alias.rfind("--", 0) == 0 && alias.size() > 3))
          << alias;
    for (const std::string& name : NamesOf(setting))
      EXPECT_TRUE(names.insert(name).second) << name << " twice";
    EXPECT_TRUE(keys.insert(SettingKey(setting)).second);
    EXPECT_TRUE(variables.insert(SettingEnvVar(setting)).second);
    if (!setting.gunicorn.empty()) {
      EXPECT_TRUE(gunicorn.insert(setting.gunicorn).second) << setting.gunicorn;
    }
  }
  // Not settings, but on the same command line.
  for (const char* other : {"-h", "--help", "-v", "--version"})
    EXPECT_EQ(names.count(other), 0u) << other;
}

TEST(SettingsTest, InternalRowsAreTheWorkersAndLast) {
  bool internal_seen = false;
  for (const Setting& setting : SettingsTable()) {
    SCOPED_TRACE(setting.flag);
    if (setting.internal) {
      internal_seen = true;
      EXPECT_EQ(setting.needs, Needs::kWorker);
      EXPECT_EQ(setting.flag.rfind("--worker-", 0), 0u);
      EXPECT_TRUE(setting.gunicorn.empty());
    } else {
      EXPECT_FALSE(internal_seen) << "a public row after the internal ones";
    }
  }
  EXPECT_TRUE(internal_seen);
}

// A default lives in Config's member initializer and, in words, in the help
// text: where the help states a number ("(default 30)"), it is Config's.
TEST(SettingsTest, HelpStatesTheConfigDefault) {
  const std::regex stated(R"(\(default ([0-9.]+)\))");
  int checked = 0;
  for (const Setting& setting : SettingsTable()) {
    std::smatch match;
    if (!std::regex_search(setting.help, match, stated)) continue;
    SCOPED_TRACE(setting.flag);
    Args values = setting.field.format(Config{});
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(std::stod(values[0]), std::stod(match[1].str()))
        << values[0] << " vs the help's " << match[1];
    ++checked;
  }
  EXPECT_GT(checked, 15);
}

// The command line has no way to turn a switch off.
TEST(SettingsTest, SwitchesDefaultToOff) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.support == Support::kRefused) continue;  // no value to keep
    if (setting.field.kind != ValueKind::kBool) continue;
    SCOPED_TRACE(setting.flag);
    EXPECT_TRUE(setting.field.format(Config{}).empty());
    Config off = WithExample(setting);
    ASSERT_TRUE(setting.field.parse(off, "false").ok());
    EXPECT_TRUE(setting.field.same(off, Config{}));
  }
}

TEST(SettingsTest, KeysAndVariablesDerivedFromTheFlag) {
  const Setting* graceful = FindSettingByName("--graceful-timeout");
  ASSERT_NE(graceful, nullptr);
  EXPECT_EQ(SettingKey(*graceful), "graceful_timeout");
  EXPECT_EQ(SettingEnvVar(*graceful), "WSGID_GRACEFUL_TIMEOUT");
  for (const char* key :
       {"graceful_timeout", "graceful-timeout", "--graceful-timeout"})
    EXPECT_EQ(FindSettingByKey(key), graceful) << key;
  const Setting* error_log = FindSettingByName("--error-logfile");
  EXPECT_EQ(FindSettingByName("--log-file"), error_log);
  EXPECT_EQ(FindSettingByKey("log_file"), error_log);
  EXPECT_EQ(FindSettingByName("-b"), FindSettingByName("--bind"));
  EXPECT_EQ(FindSettingByKey("b"), nullptr);  // short names are not keys
  EXPECT_EQ(FindSettingByKey("worker_id"), nullptr);  // internal
  EXPECT_NE(FindSettingByName("--worker-id"), nullptr);
  EXPECT_EQ(FindSettingByName("--no-such-flag"), nullptr);
}

// Files and the environment reach every public row by its key.
TEST(SettingsTest, EveryPublicRowIsSetByItsKey) {
  for (const Setting& setting : SettingsTable()) {
    if (setting.support == Support::kRefused) continue;  // no value to keep
    SCOPED_TRACE(setting.flag);
    StatusOr<ValueKind> kind = ConfigLayer::KindOf(SettingKey(setting));
    if (setting.internal) {
      EXPECT_FALSE(kind.ok());
      continue;
    }
    ASSERT_TRUE(kind.ok()) << kind.status().message();
    EXPECT_EQ(*kind, setting.field.kind);
    Config c;
    c.app = "a:b";
    ConfigLayer layer(&c);
    ASSERT_TRUE(layer.Set(SettingKey(setting), setting.example).ok());
    EXPECT_TRUE(setting.field.same(c, WithExample(setting)));
  }
}

// Every error from a bad value names the flag and is InvalidArgument.
TEST(SettingsTest, BadValuesNameTheFlag) {
  const std::map<ValueKind, std::string> bad = {{ValueKind::kInt, "many"},
                                                {ValueKind::kSeconds, "soon"},
                                                {ValueKind::kSize, "big"}};
  int checked = 0;
  for (const Setting& setting : SettingsTable()) {
    auto it = bad.find(setting.field.kind);
    if (it == bad.end()) continue;
    SCOPED_TRACE(setting.flag);
    Config c;
    Status s = ApplySetting(setting, it->second, &c);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().rfind(setting.flag + ": ", 0), 0u) << s.message();
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(SettingsTest, OctalRowsWriteOctal) {
  Config c;
  c.umask = 027;
  c.control_socket_mode = 0660;
  EXPECT_EQ(FindSettingByName("--umask")->field.format(c), Args{"027"});
  EXPECT_EQ(FindSettingByName("--control-socket-mode")->field.format(c),
            Args{"0660"});
  EXPECT_TRUE(FindSettingByName("--umask")->field.octal);
  Config back;
  ASSERT_TRUE(ApplySetting(*FindSettingByName("--umask"), "0o027", &back).ok());
  EXPECT_EQ(back.umask, 027);
}

TEST(SettingsTest, CommaListsAreOneValue) {
  Config c;
  c.forwarded_allow_ips.clear();
  const Setting* ips = FindSettingByName("--forwarded-allow-ips");
  EXPECT_EQ(ips->field.format(c),
            Args{""});  // "--forwarded-allow-ips=" empties
  c.pythonpath = {"/a", "/b"};
  EXPECT_EQ(FindSettingByName("--pythonpath")->field.format(c), Args{"/a,/b"});
  c.binds = {"x:1", "y:2"};
  EXPECT_EQ(FindSettingByName("--bind")->field.format(c), (Args{"x:1", "y:2"}));
}

}  // namespace
}  // namespace wsgid
