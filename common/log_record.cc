#include "common/log_record.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace wsgid {
namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is
// not one (overlong forms, surrogates and values past U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  if (n == 3 && c == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
  if (n == 3 && c == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
  if (n == 4 && c == 0xF0 && byte(1) < 0x90) return 0;   // overlong
  if (n == 4 && c == 0xF4 && byte(1) >= 0x90) return 0;  // > U+10FFFF
  return n;
}

}  // namespace

StatusOr<LogFormat> ParseLogFormat(const std::string& name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return Status::InvalidArgument("invalid log format '" + name +
                                 "' (expected text or json)");
}

const char* ProcessKindName(ProcessKind kind) {
  static const char* const kNames[] = {"master", "worker", "preload", "hooks"};
  return kNames[static_cast<int>(kind)];
}

const char* LevelName(LogLevel level) {
  static const char* const kNames[] = {"DEBUG", "INFO", "WARNING", "ERROR",
                                       "CRITICAL"};
  return kNames[static_cast<int>(level)];
}

const char* LevelNameLower(LogLevel level) {
  static const char* const kNames[] = {"debug", "info", "warning", "error",
                                       "critical"};
  return kNames[static_cast<int>(level)];
}

std::string Rfc3339Time(const timespec& when) {
  struct tm local;
  ::localtime_r(&when.tv_sec, &local);
  char date[32];
  ::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &local);
  long offset_min = local.tm_gmtoff / 60;
  char sign = offset_min < 0 ? '-' : '+';
  offset_min = std::labs(offset_min);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%03ld%c%02ld:%02ld", date,
                when.tv_nsec / 1000000, sign, offset_min / 60, offset_min % 60);
  return out;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = static_cast<unsigned char>(text[i]) < 0x80
                   ? 1
                   : Utf8SequenceLength(text.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendJsonString(std::string_view text, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(text.substr(i));
      if (n == 0) {
        *out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
        ++i;
      } else {
        out->append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void JsonLine::Key(std::string_view key) {
  if (out_.size() > 1) out_ += ", ";
  AppendJsonString(key, &out_);
  out_ += ": ";
}

void JsonLine::Text(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(value, &out_);
}

void JsonLine::Int(std::string_view key, int64_t value) {
  Key(key);
  out_ += std::to_string(value);
}

void JsonLine::Number(std::string_view key, double value) {
  Key(key);
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", value);
  out_ += buf;
}

void JsonLine::Null(std::string_view key) {
  Key(key);
  out_ += "null";
}

void JsonLine::Raw(std::string_view key, std::string_view json) {
  Key(key);
  out_ += json;
}

std::string JsonLine::Finish() {
  out_ += "}\n";
  return std::move(out_);
}

std::string FormatErrorRecord(LogFormat format, LogLevel level,
                              std::string_view message,
                              const RecordSource& source, const timespec& now) {
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  if (format == LogFormat::kJson) {
    JsonLine j;
    j.Text("time", Rfc3339Time(now));
    j.Text("level", LevelNameLower(level));
    j.Int("pid", source.pid);
    j.Int("worker", source.worker_id);
    j.Text("process", ProcessKindName(source.process));
    j.Text("stream", source.stream);
    j.Text("message", message);
    return j.Finish();
  }
  struct tm local;
  ::localtime_r(&now.tv_sec, &local);
  char stamp[64];
  ::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S %z", &local);
  std::string line;
  line.reserve(message.size() + 64);
  line += '[';
  line += stamp;
  line += "] [";
  line += std::to_string(source.pid);
  line += "] [";
  line += LevelName(level);
  line += "] ";
  line += message;
  line += '\n';
  return line;
}

}  // namespace wsgid
