// One log record as the line written to the error or access log: Gunicorn's
// text layout, or one JSON object per line (--log-format json) with stable
// field names for log shippers.
//
// JSON fields every record has (README "Logging" lists them):
//   time     RFC 3339, milliseconds and the zone:
//            "2026-12-02T10:00:00.123+00:00"
//   level    debug, info, warning, error, critical
//   pid      the process that wrote it
//   worker   the worker id (1...); 0 in a process that is not a worker
//   process  what the process is: master, worker, preload (the zygote that
//            forks the workers) or hooks (the master's hook helper)
//   stream   log (wsgid's own), stdout or stderr (the app's prints), access
//   message  the text; a traceback or a stack dump is one message with \n
// Access records add the request's fields (access_log.h).
//
// Pure functions of their arguments: thread-safe, unit-tested.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wsgid {

// Levels in order; the error log writes those at or above --log-level.
enum class LogLevel { kDebug = 0, kInfo, kWarning, kError, kCritical };

enum class LogFormat { kText, kJson };

// Parses "text" or "json".
StatusOr<LogFormat> ParseLogFormat(const std::string& name);

// "2026-12-02T10:00:00.123+01:00" in the local zone.
std::string Rfc3339Time(const timespec& when);

// Appends `text` as a JSON string (quoted). Bytes that are not valid UTF-8
// become U+FFFD, so every line is valid JSON whatever the app printed.
void AppendJsonString(std::string_view text, std::string* out);

// True when `text` is valid UTF-8 (what AppendJsonString keeps as it is).
bool IsValidUtf8(std::string_view text);

// Builds one JSON object on one line, field by field:
//   JsonLine j; j.Text("level", "info"); j.Int("pid", 12); j.Finish();
class JsonLine {
 public:
  JsonLine() : out_("{") {}
  void Text(std::string_view key, std::string_view value);
  void Int(std::string_view key, int64_t value);
  void Number(std::string_view key, double value);
  void Null(std::string_view key);
  // `json` must already be valid JSON (an object or array built elsewhere).
  void Raw(std::string_view key, std::string_view json);
  // The object and a newline. The builder is spent afterwards.
  std::string Finish();

 private:
  void Key(std::string_view key);
  std::string out_;
};

// What kind of process writes a record (the "process" field).
enum class ProcessKind { kMaster = 0, kWorker, kPreload, kHooks };

// "master", "worker", "preload", "hooks".
const char* ProcessKindName(ProcessKind kind);

// Who wrote a record (the fields every record has but time, level, message).
struct RecordSource {
  int pid = 0;
  int worker_id = 0;                // 0: not a worker
  std::string_view stream = "log";  // log, stdout, stderr
  ProcessKind process = ProcessKind::kMaster;
};

// "INFO" (Gunicorn's text log) and "info" (JSON records).
const char* LevelName(LogLevel level);
const char* LevelNameLower(LogLevel level);

// One error-log line ending in '\n'. Text: "[time] [pid] [LEVEL] message";
// JSON: the fields above.
std::string FormatErrorRecord(LogFormat format, LogLevel level,
                              std::string_view message,
                              const RecordSource& source, const timespec& now);

}  // namespace wsgid
