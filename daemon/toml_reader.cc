#include "daemon/toml_reader.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace wsgid {

const char* TomlValue::TypeName() const {
  switch (type) {
    case Type::kString:
      return "a string";
    case Type::kInteger:
      return "an integer";
    case Type::kFloat:
      return "a float";
    case Type::kBool:
      return "a boolean";
    case Type::kArray:
      return "an array";
  }
  return "?";
}

void TomlReader::SkipSpaces() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
    ++pos_;
}

void TomlReader::SkipBlank() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (c == '\n') ++line_;
      ++pos_;
    } else if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else {
      break;
    }
  }
}

// key = value, then the end of the line (or a comment).
Status TomlReader::Next(std::string* key, TomlValue* value, bool* done) {
  SkipBlank();
  if (AtEnd()) {
    *done = true;
    return Status::Ok();
  }
  *done = false;
  if (Peek() == '[')
    return Error("tables are not supported: write every key at the top");
  size_t start = pos_;
  while (pos_ < text_.size() &&
         (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
          text_[pos_] == '_' || text_[pos_] == '-'))
    ++pos_;
  if (pos_ == start) return Error("expected a key");
  *key = text_.substr(start, pos_ - start);
  SkipSpaces();
  if (Peek() != '=') return Error("expected '=' after '" + *key + "'");
  ++pos_;
  SkipSpaces();
  if (Status s = Value(value); !s.ok())
    return Status::InvalidArgument(s.message() + " (setting '" + *key + "')");
  SkipSpaces();
  if (Peek() == '#') {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  }
  if (Peek() == '\r') ++pos_;
  if (!AtEnd() && Peek() != '\n')
    return Error("unexpected text after the value of '" + *key + "'");
  return Status::Ok();
}

Status TomlReader::Error(const std::string& what) const {
  return Status::InvalidArgument("line " + std::to_string(line_) + ": " + what);
}

Status TomlReader::Value(TomlValue* v, int depth) {
  // Settings hold flat arrays; a bound keeps hostile nesting off the stack.
  if (depth > 8) return Error("arrays nested too deeply");
  char c = Peek();
  if (c == '"' || c == '\'') return String(v);
  if (c == '[') {
    v->type = TomlValue::Type::kArray;
    ++pos_;
    while (true) {
      SkipBlank();
      if (Peek() == ']') {
        ++pos_;
        return Status::Ok();
      }
      TomlValue item;
      if (Status s = Value(&item, depth + 1); !s.ok()) return s;
      v->items.push_back(std::move(item));
      SkipBlank();
      if (Peek() == ',') {
        ++pos_;
      } else if (Peek() != ']') {
        return Error("expected ',' or ']' in an array");
      }
    }
  }
  size_t start = pos_;
  while (pos_ < text_.size() && !std::strchr(" \t\r\n#,]", text_[pos_])) ++pos_;
  std::string word = text_.substr(start, pos_ - start);
  if (word == "true" || word == "false") {
    v->type = TomlValue::Type::kBool;
    v->text = word;
    return Status::Ok();
  }
  std::string digits;
  for (char d : word)
    if (d != '_') digits += d;
  char* end = nullptr;
  if (!digits.empty()) {
    errno = 0;
    std::strtoll(digits.c_str(), &end, 10);
    if (*end == '\0' && errno == 0) {
      v->type = TomlValue::Type::kInteger;
      v->text = digits;
      return Status::Ok();
    }
    std::strtod(digits.c_str(), &end);
    if (*end == '\0') {
      v->type = TomlValue::Type::kFloat;
      v->text = digits;
      return Status::Ok();
    }
  }
  return Error("invalid value '" + word + "' (strings need quotes)");
}

Status TomlReader::String(TomlValue* v) {
  char quote = text_[pos_++];
  v->type = TomlValue::Type::kString;
  while (pos_ < text_.size() && text_[pos_] != quote) {
    char c = text_[pos_++];
    if (c == '\n') return Error("unterminated string");
    if (c == '\\' && quote == '"' && pos_ < text_.size()) {
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          v->text += '\n';
          break;
        case 't':
          v->text += '\t';
          break;
        case '"':
          v->text += '"';
          break;
        case '\\':
          v->text += '\\';
          break;
        default:
          return Error(std::string("unsupported escape \\") + e);
      }
    } else {
      v->text += c;
    }
  }
  if (pos_ >= text_.size()) return Error("unterminated string");
  ++pos_;
  return Status::Ok();
}

}  // namespace wsgid
