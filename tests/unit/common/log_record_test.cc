// The log record formats: JSON lines that always parse (whatever bytes the app
// printed), RFC 3339 times with the zone, Gunicorn's text layout; syslog
// datagrams; the reopenable log file.
#include "common/log_record.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "common/log_file.h"
#include "common/syslog_sink.h"

namespace wsgid {
namespace {

nlohmann::json ParseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line: " << line;
  return nlohmann::json::parse(line);
}

TEST(LogRecord, JsonStringEscapesControlsQuotesAndBadUtf8) {
  std::string out;
  AppendJsonString("a\"b\\c\n\t\x01 \xC3\xA9 \xFF \xE2\x82 ok \xED\xA0\x80",
                   &out);
  auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed.get<std::string>(),
            "a\"b\\c\n\t\x01 \xC3\xA9 \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD ok "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(out.find('\n'), std::string::npos);
}

TEST(LogRecord, Rfc3339TimeHasMillisecondsAndZone) {
  setenv("TZ", "Asia/Kolkata", 1);
  tzset();
  timespec t{1764640800, 123456789};  // 2025-12-02T02:00:00Z
  EXPECT_EQ(Rfc3339Time(t), "2025-12-02T07:30:00.123+05:30");
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(Rfc3339Time(t), "2025-12-02T02:00:00.123+00:00");
  unsetenv("TZ");
  tzset();
}

TEST(LogRecord, JsonErrorRecordHasTheDocumentedFields) {
  timespec t{1764640800, 0};
  RecordSource source{42, 3, "stderr"};
  auto j = ParseLine(FormatErrorRecord(LogFormat::kJson, LogLevel::kWarning,
                                       "Traceback:\n  File x\nValueError\n",
                                       source, t));
  EXPECT_TRUE(std::regex_match(
      j["time"].get<std::string>(),
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d)")));
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["pid"], 42);
  EXPECT_EQ(j["worker"], 3);
  EXPECT_EQ(j["stream"], "stderr");
  EXPECT_EQ(j["message"], "Traceback:\n  File x\nValueError");
}

TEST(LogRecord, JsonRecordNamesTheKindOfProcess) {
  timespec t{1764640800, 0};
  auto record = [&](RecordSource source) {
    return ParseLine(
        FormatErrorRecord(LogFormat::kJson, LogLevel::kInfo, "m", source, t));
  };
  auto master = record(RecordSource{1, 0, "log"});  // the default
  EXPECT_EQ(master["process"], "master");
  EXPECT_EQ(master["worker"], 0);
  auto worker = record(RecordSource{2, 3, "stdout", ProcessKind::kWorker});
  EXPECT_EQ(worker["process"], "worker");
  EXPECT_EQ(worker["worker"], 3);
  EXPECT_EQ(record(RecordSource{3, 0, "log", ProcessKind::kPreload})["process"],
            "preload");
  EXPECT_EQ(
      record(RecordSource{4, 0, "stderr", ProcessKind::kHooks})["process"],
      "hooks");
}

TEST(LogRecord, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("ok \xC3"));       // cut short
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // a surrogate
}

TEST(LogRecord, TextErrorRecordIsGunicornsLayout) {
  timespec t{1764640800, 0};
  std::string line = FormatErrorRecord(LogFormat::kText, LogLevel::kError,
                                       "boom", RecordSource{7, 0, "log"}, t);
  EXPECT_TRUE(std::regex_match(
      line,
      std::regex(
          R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[7\] \[ERROR\] boom\n)")))
      << line;
}

TEST(LogRecord, ParseLogFormat) {
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
}

TEST(LogRecord, JsonLineNumbersAndNull) {
  JsonLine j;
  j.Int("a", -3);
  j.Number("b", 0.25);
  j.Null("c");
  j.Raw("d", "{\"x\": 1}");
  auto parsed = ParseLine(j.Finish());
  EXPECT_EQ(parsed["a"], -3);
  EXPECT_DOUBLE_EQ(parsed["b"].get<double>(), 0.25);
  EXPECT_TRUE(parsed["c"].is_null());
  EXPECT_EQ(parsed["d"]["x"], 1);
}

TEST(SyslogSink, DatagramAsGunicornsHandlerWritesIt) {
  EXPECT_EQ(
      SyslogSink::Format(16, LogLevel::kError, "wsgid.app.error", 9, "boom\n"),
      "<131>wsgid.app.error: [9] [ERROR] boom");
  EXPECT_EQ(*ParseSyslogFacility("user"), 1);
  EXPECT_EQ(*ParseSyslogFacility("local7"), 23);
  EXPECT_FALSE(ParseSyslogFacility("nope").ok());
  EXPECT_TRUE(CheckSyslogAddress("udp://localhost:514").ok());
  EXPECT_TRUE(CheckSyslogAddress("tcp://[::1]:514").ok());
  EXPECT_TRUE(CheckSyslogAddress("unix:///dev/log").ok());
  EXPECT_TRUE(CheckSyslogAddress("unix:/dev/log").ok());
  EXPECT_FALSE(CheckSyslogAddress("http://x").ok());
  EXPECT_FALSE(CheckSyslogAddress("localhost").ok());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rotation: the descriptor number stays, the writes move to the new file.
TEST(LogFile, ReopenMovesTheSameFdToTheNewFile) {
  char dir[] = "/tmp/wsgid-logfile-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/a.log";
  LogFile file;
  ASSERT_TRUE(file.Open(path, 1).ok());
  int fd = file.fd();
  ASSERT_GE(fd, 10);
  ASSERT_EQ(::write(fd, "one\n", 4), 4);
  ASSERT_EQ(::rename(path.c_str(), (path + ".1").c_str()), 0);
  ASSERT_TRUE(file.Reopen().ok());
  EXPECT_EQ(file.fd(), fd);
  ASSERT_EQ(::write(fd, "two\n", 4), 4);
  EXPECT_EQ(ReadAll(path + ".1"), "one\n");
  EXPECT_EQ(ReadAll(path), "two\n");
  ::unlink(path.c_str());
  ::unlink((path + ".1").c_str());
  ::rmdir(dir);
}

// A preload zygote's workers open "-" again after the zygote's stdio relay took
// its descriptor 2: they keep the zygote's error log, not the relay's pipe.
TEST(LogFile, StandardAgainKeepsTheFirstDuplicate) {
  int first[2], later[2];
  ASSERT_EQ(::pipe(first), 0);
  ASSERT_EQ(::pipe(later), 0);
  LogFile file;
  ASSERT_TRUE(file.Open("-", first[1]).ok());
  ASSERT_TRUE(file.Open("-", later[1]).ok());
  ASSERT_EQ(::write(file.fd(), "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(first[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  for (int fd : {first[0], first[1], later[0], later[1]}) ::close(fd);
}

TEST(LogFile, UnopenablePathKeepsTheOldFile) {
  LogFile file;
  ASSERT_TRUE(file.Open("-", 2).ok());
  EXPECT_TRUE(file.is_standard());
  EXPECT_TRUE(file.Reopen().ok());
  EXPECT_FALSE(file.Open("/nonexistent-dir/x.log", 2).ok());
  EXPECT_TRUE(file.is_standard());
}

}  // namespace
}  // namespace wsgid
