// The TOML subset wsgid.toml is written in (daemon/config_file.h applies it):
// top-level `key = value` lines, one per line, and comments. Values are
// strings ("basic" with the escapes \n \t \" \\, or 'literal'), integers
// (with '_' separators and a sign), floats, booleans, and arrays of them over
// several lines if need be, nested at most 8 deep. No tables, dates or
// multi-line strings: settings are flat.
//
// A TomlReader reads text its caller owns and keeps alive; one thread.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace wsgid {

// One parsed TOML value.
struct TomlValue {
  enum class Type { kString, kInteger, kFloat, kBool, kArray };
  Type type = Type::kString;
  std::string text;  // string contents, or the number / bool as written
  std::vector<TomlValue> items;  // kArray
  // "a string", "an integer", ... (for "must be X, not Y" errors).
  const char* TypeName() const;
};

class TomlReader {
 public:
  explicit TomlReader(const std::string& text) : text_(text) {}
  // The reader keeps a reference: a temporary would dangle.
  explicit TomlReader(std::string&&) = delete;

  // Reads the next `key = value` line. At the end of input *done is true and
  // key and value are untouched. Errors are InvalidArgument, "line N: what".
  Status Next(std::string* key, TomlValue* value, bool* done);
  // The line the reader is on (1-based).
  int line() const { return line_; }

 private:
  void SkipSpaces();
  // Spaces, newlines and comments (inside arrays).
  void SkipBlank();
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  Status Error(const std::string& what) const;
  Status Value(TomlValue* v, int depth = 0);
  Status String(TomlValue* v);

  const std::string& text_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace wsgid
