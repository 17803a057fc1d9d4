// Gunicorn's logging config files read for the level and the handlers' files.
#include "daemon/log_config.h"

#include <gtest/gtest.h>

namespace wsgid {
namespace {

TEST(LogConfig, IniFileGivesLevelAndFiles) {
  auto dict = IniLogConfigToDict(R"(
[loggers]
keys=root, gunicorn.error, access

[handlers]
keys=console, error_file, access_file

[formatters]
keys=generic

[logger_root]
level=INFO
handlers=console

[logger_gunicorn.error]
level=WARNING
handlers=error_file
qualname=gunicorn.error

[logger_access]
level=INFO
handlers=access_file
qualname=gunicorn.access

[handler_console]
class=StreamHandler
args=(sys.stdout, )

[handler_error_file]
class=logging.FileHandler
args=('/var/log/app/error.log', 'a')

[handler_access_file]
class=logging.handlers.WatchedFileHandler
args=("/var/log/app/access.log",)
)");
  ASSERT_TRUE(dict.ok()) << dict.status().message();
  Config config;
  ASSERT_TRUE(ApplyLogConfigDict(*dict, &config).ok());
  EXPECT_EQ(config.log_level, "warning");
  EXPECT_EQ(config.error_logfile, "/var/log/app/error.log");
  EXPECT_EQ(config.access_logfile, "/var/log/app/access.log");
}

TEST(LogConfig, DictRootOnly) {
  Config config;
  config.log_config_dict = R"({"version": 1,
      "root": {"level": "DEBUG", "handlers": ["f"]},
      "handlers": {"f": {"class": "logging.FileHandler", "filename": "/tmp/e.log"},
                   "s": {"class": "logging.StreamHandler"}},
      "loggers": {"gunicorn.access": {"handlers": ["s"]}}})";
  ASSERT_TRUE(ApplyLogConfig(&config).ok());
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.error_logfile, "/tmp/e.log");
  EXPECT_EQ(config.access_logfile, "-");
}

TEST(LogConfig, ErrorsNameTheSetting) {
  Config config;
  config.log_config_dict = "{not json";
  EXPECT_FALSE(ApplyLogConfig(&config).ok());
  config.log_config_dict = R"({"root": {"level": "TRACE"}})";
  Status s = ApplyLogConfig(&config);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("trace"), std::string::npos);
  Config missing;
  missing.log_config = "/nonexistent/logging.ini";
  s = ApplyLogConfig(&missing);
  EXPECT_NE(s.message().find("--log-config"), std::string::npos);
  EXPECT_FALSE(IniLogConfigToDict("[a]\nno equals sign\n").ok());
}

}  // namespace
}  // namespace wsgid
