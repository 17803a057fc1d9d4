// Unit tests for common/effective_settings.h: the values are Python literals,
// the sources are the layers', and nothing refused or internal is printed.
#include "common/effective_settings.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace wsgid {
namespace {

std::map<std::string, EffectiveSetting> ByName(const Config& config) {
  std::map<std::string, EffectiveSetting> out;
  for (const EffectiveSetting& s : EffectiveSettings(config, EnvValues::kShown))
    out[s.name] = s;
  return out;
}

TEST(EffectiveSettingsTest, PythonLiteralsAndSources) {
  auto config = ParseCommandLine(
      {"-w", "3", "--umask", "027", "-b", "a:1", "--access-logformat",
       "it's \\ \"x\"", "--no-sendfile", "--statsd-prefix", "p", "mod:app"});
  ASSERT_TRUE(config.ok());
  auto s = ByName(*config);
  EXPECT_EQ(s["workers"].value, "3");
  EXPECT_EQ(s["workers"].source, "flag");
  EXPECT_EQ(s["timeout"].value, "30");
  EXPECT_EQ(s["timeout"].source, "default");
  EXPECT_EQ(s["umask"].value, "0o27");
  EXPECT_EQ(s["bind"].value, "['a:1']");
  EXPECT_EQ(s["access_log_format"].value, "'it\\'s \\\\ \"x\"'");
  EXPECT_EQ(s["sendfile"].value, "True");
  EXPECT_EQ(s["pidfile"].value, "None");
  EXPECT_EQ(s["forwarded_allow_ips"].value, "'127.0.0.1,::1'");
  EXPECT_EQ(s["statsd_prefix"].value, "'p'");
  EXPECT_EQ(s["wsgi_app"].value, "'mod:app'");
  EXPECT_EQ(s["wsgi_app"].source, "flag");
  EXPECT_EQ(s["ops_bind"].value, "'127.0.0.1:9180'");  // wsgid's own: its key
  EXPECT_EQ(s.count("reload"), 0u);                    // refused: never set
  EXPECT_EQ(s.count("print_config"), 0u);
  EXPECT_EQ(s.count("worker_id"), 0u);
}

TEST(EffectiveSettingsTest, LinesAreAlignedAndSorted) {
  std::string text =
      FormatSettingLines({{"a", "1", "default"}, {"long_name", "'x'", "file"}});
  EXPECT_EQ(text,
            "a         = 1  # default\n"
            "long_name = 'x'  # file\n");
}

TEST(EffectiveSettingsTest, EnvValuesAreHiddenFromTheControlApi) {
  Config c;
  c.env = {{"DB_PASSWORD", "hunter2"}, {"MODE", "a=b"}};
  auto raw_env = [&](EnvValues env_values) {
    for (const EffectiveSetting& s : EffectiveSettings(c, env_values))
      if (s.name == "raw_env") return s.value;
    return std::string("missing");
  };
  EXPECT_EQ(raw_env(EnvValues::kShown), "['DB_PASSWORD=hunter2', 'MODE=a=b']");
  EXPECT_EQ(raw_env(EnvValues::kHidden),
            "['DB_PASSWORD=<hidden>', 'MODE=<hidden>']");
}

TEST(EffectiveSettingsTest, LayersRecordTheirSource) {
  Config c;
  ConfigLayer file(&c, "file");
  ASSERT_TRUE(file.Set("workers", "2").ok());
  ConfigLayer env(&c, "environment");
  ASSERT_TRUE(env.Set("timeout", "5").ok());
  EXPECT_EQ(c.sources["workers"], "file");
  EXPECT_EQ(c.sources["timeout"], "environment");
}

}  // namespace
}  // namespace wsgid
