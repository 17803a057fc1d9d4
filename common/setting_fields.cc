#include "common/setting_fields.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/address_allow_list.h"

namespace wsgid {
namespace {

StatusOr<int64_t> ParseInt(const std::string& text, int64_t min, int64_t max) {
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return Status::InvalidArgument("'" + text + "' is not an integer");
  if (value < min || value > max)
    return Status::InvalidArgument(text + " is out of range [" +
                                   std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  return static_cast<int64_t>(value);
}

StatusOr<double> ParseSeconds(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value < 0)
    return Status::InvalidArgument("'" + text + "' is not a number of seconds");
  return value;
}

StatusOr<int64_t> ParseSize(const std::string& text) {
  char* end = nullptr;
  double n = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  double scale = unit.empty()  ? 1
                 : unit == "K" ? 1024.0
                 : unit == "M" ? 1048576.0
                 : unit == "G" ? 1073741824.0
                               : -1;
  // Finite and below 2^62 so the cast to int64_t is defined.
  if (text.empty() || end == text.c_str() || scale < 0 || !std::isfinite(n) ||
      n < 0 || n * scale > 4.6e18)
    return Status::InvalidArgument("'" + text +
                                   "' is not a size like 512M or 2G");
  return static_cast<int64_t>(n * scale);
}

// Items separated by `sep`, blanks around them trimmed, empty ones dropped.
std::vector<std::string> SplitList(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

template <typename T>
std::string Join(const std::vector<T>& items) {
  std::ostringstream out;
  for (size_t i = 0; i < items.size(); ++i) out << (i ? "," : "") << items[i];
  return out.str();
}

// The shortest text that reads back as the same double.
std::string FormatSeconds(double s) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, s);
  return std::string(buf, result.ptr);
}

// Compares one member of two configs.
template <typename T>
std::function<bool(const Config&, const Config&)> SameMember(T Config::*f) {
  return [f](const Config& a, const Config& b) { return a.*f == b.*f; };
}

template <typename T>
SettingField IntFieldOf(T Config::*f, int64_t min, int64_t max) {
  SettingField field;
  field.kind = ValueKind::kInt;
  field.parse = [f, min, max](Config& c, const std::string& v) -> Status {
    auto n = ParseInt(v, min, max);
    if (!n.ok()) return n.status();
    c.*f = static_cast<T>(*n);
    return Status::Ok();
  };
  field.format = [f](const Config& c) {
    return std::vector<std::string>{std::to_string(c.*f)};
  };
  field.same = SameMember(f);
  return field;
}

}  // namespace

SettingField SwitchField(bool Config::*f) {
  SettingField field;
  field.kind = ValueKind::kBool;
  field.parse = [f](Config& c, const std::string& v) {
    c.*f = v == "true";
    return Status::Ok();
  };
  field.format = [f](const Config& c) {
    return c.*f ? std::vector<std::string>{"true"} : std::vector<std::string>{};
  };
  field.same = SameMember(f);
  return field;
}

SettingField IntField(int Config::*f, int64_t min, int64_t max) {
  return IntFieldOf(f, min, max);
}

SettingField IntField(int64_t Config::*f, int64_t min, int64_t max) {
  return IntFieldOf(f, min, max);
}

SettingField SecondsField(double Config::*f) {
  SettingField field;
  field.kind = ValueKind::kSeconds;
  field.parse = [f](Config& c, const std::string& v) -> Status {
    auto s = ParseSeconds(v);
    if (!s.ok()) return s.status();
    c.*f = *s;
    return Status::Ok();
  };
  field.format = [f](const Config& c) {
    return std::vector<std::string>{FormatSeconds(c.*f)};
  };
  field.same = SameMember(f);
  return field;
}

SettingField SizeField(int64_t Config::*f) {
  SettingField field = IntFieldOf(f, 0, INT64_MAX);
  field.kind = ValueKind::kSize;
  field.parse = [f](Config& c, const std::string& v) -> Status {
    auto n = ParseSize(v);
    if (!n.ok()) return n.status();
    c.*f = *n;
    return Status::Ok();
  };
  return field;
}

SettingField TextField(std::string Config::*f, TextCheck check) {
  SettingField field;
  field.kind = ValueKind::kString;
  field.parse = [f, check](Config& c, const std::string& v) -> Status {
    if (check == nullptr) {
      c.*f = v;
      return Status::Ok();
    }
    auto checked = check(v);
    if (!checked.ok()) return checked.status();
    c.*f = *checked;
    return Status::Ok();
  };
  field.format = [f](const Config& c) {
    return std::vector<std::string>{c.*f};
  };
  field.same = SameMember(f);
  return field;
}

SettingField OctalField(int Config::*f, OctalRead read) {
  SettingField field;
  field.kind = ValueKind::kString;
  field.octal = true;
  field.parse = [f, read](Config& c, const std::string& v) -> Status {
    auto mode = read(v);
    if (!mode.ok()) return mode.status();
    c.*f = *mode;
    return Status::Ok();
  };
  field.format = [f](const Config& c) {
    char octal[16];
    std::snprintf(octal, sizeof octal, "0%o", static_cast<unsigned>(c.*f));
    return std::vector<std::string>{octal};
  };
  field.same = SameMember(f);
  return field;
}

SettingField ListField(std::vector<std::string> Config::*f) {
  SettingField field;
  field.kind = ValueKind::kList;
  field.parse = [f](Config& c, const std::string& v) {
    (c.*f).push_back(v);
    return Status::Ok();
  };
  field.format = [f](const Config& c) { return c.*f; };
  field.same = SameMember(f);
  field.clear = [f](Config& c) { (c.*f).clear(); };
  return field;
}

SettingField CommaListField(std::vector<std::string> Config::*f) {
  SettingField field = ListField(f);
  field.parse = [f](Config& c, const std::string& v) {
    for (std::string& item : SplitList(v, ',')) (c.*f).push_back(item);
    return Status::Ok();
  };
  field.comma_list = true;
  // One value, even for an empty list: "--forwarded-allow-ips=" empties it.
  field.format = [f](const Config& c) {
    return std::vector<std::string>{Join(c.*f)};
  };
  return field;
}

SettingField AddressListField(std::vector<std::string> Config::*f) {
  SettingField field = CommaListField(f);
  field.parse = [f](Config& c, const std::string& v) {
    std::vector<std::string> items = SplitList(v, ',');
    for (const std::string& item : items)
      if (Status s = AddressAllowList::CheckEntry(item); !s.ok()) return s;
    for (std::string& item : items) (c.*f).push_back(std::move(item));
    return Status::Ok();
  };
  return field;
}

SettingField EnvField() {
  SettingField field;
  field.kind = ValueKind::kList;
  field.parse = [](Config& c, const std::string& v) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("'" + v + "' is not VAR=VALUE");
    c.env.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    return Status::Ok();
  };
  field.format = [](const Config& c) {
    std::vector<std::string> values;
    for (const auto& [name, value] : c.env)
      values.push_back(name + "=" + value);
    return values;
  };
  field.same = SameMember(&Config::env);
  field.clear = [](Config& c) { c.env.clear(); };
  return field;
}

SettingField HeaderMapField() {
  static const std::pair<const char*, HeaderMap> kModes[] = {
      {"drop", HeaderMap::kDrop},
      {"refuse", HeaderMap::kRefuse},
      {"dangerous", HeaderMap::kDangerous}};
  SettingField field;
  field.kind = ValueKind::kString;
  field.parse = [](Config& c, const std::string& v) {
    for (const auto& [name, mode] : kModes) {
      if (v != name) continue;
      c.header_map = mode;
      return Status::Ok();
    }
    return Status::InvalidArgument("'" + v +
                                   "' is not one of drop, refuse, dangerous");
  };
  field.format = [](const Config& c) {
    for (const auto& [name, mode] : kModes)
      if (c.header_map == mode) return std::vector<std::string>{name};
    return std::vector<std::string>{};
  };
  field.same = SameMember(&Config::header_map);
  return field;
}

SettingField FdListField(std::vector<int> Config::*f) {
  SettingField field;
  field.kind = ValueKind::kList;
  field.parse = [f](Config& c, const std::string& v) -> Status {
    (c.*f).clear();
    for (const std::string& item : SplitList(v, ',')) {
      auto fd = ParseInt(item, 0, 1 << 20);
      if (!fd.ok()) return fd.status();
      (c.*f).push_back(static_cast<int>(*fd));
    }
    return Status::Ok();
  };
  field.format = [f](const Config& c) {
    return std::vector<std::string>{Join(c.*f)};
  };
  field.same = SameMember(f);
  field.clear = [f](Config& c) { (c.*f).clear(); };
  return field;
}

// issue 15: Gunicorn settings that change nothing here, or are refused.
SettingField UnusedField(const std::string& flag, ValueKind kind) {
  SettingField field;
  field.kind = kind;
  field.parse = [flag, kind](Config& c, const std::string& v) {
    if (kind == ValueKind::kBool && v == "false")
      c.accepted_unused.erase(flag);
    else
      c.accepted_unused[flag] = v;
    return Status::Ok();
  };
  field.format = [flag](const Config& c) {
    auto it = c.accepted_unused.find(flag);
    return it == c.accepted_unused.end() ? std::vector<std::string>{}
                                         : std::vector<std::string>{it->second};
  };
  field.same = [flag](const Config& a, const Config& b) {
    auto x = a.accepted_unused.find(flag), y = b.accepted_unused.find(flag);
    bool in_a = x != a.accepted_unused.end();
    bool in_b = y != b.accepted_unused.end();
    return in_a == in_b && (!in_a || x->second == y->second);
  };
  return field;
}

SettingField RefusedField(const std::string& why, ValueKind kind) {
  SettingField field;
  field.kind = kind;
  field.parse = [why, kind](Config&, const std::string& v) {
    if (kind == ValueKind::kBool && v == "false") return Status::Ok();
    return Status::InvalidArgument("refused: " + why);
  };
  field.format = [](const Config&) { return std::vector<std::string>{}; };
  field.same = [](const Config&, const Config&) { return true; };
  return field;
}

}  // namespace wsgid
