#include "common/effective_settings.h"

#include <algorithm>
#include <cstdio>

#include "common/settings.h"

namespace wsgid {
namespace {

// A Python string literal (JSON's escapes are Python's too).
std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (unsigned char c : text) {
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string PythonValue(const Setting& setting, const Config& config) {
  static const Config kDefaults;
  std::vector<std::string> values = setting.field.format(config);
  switch (setting.field.kind) {
    case ValueKind::kBool:
      return values.empty() ? "False" : "True";
    case ValueKind::kList: {
      if (setting.field.comma_list) break;  // one string
      std::string list = "[";
      for (size_t i = 0; i < values.size(); ++i)
        list += (i ? ", " : "") + Quoted(values[i]);
      return list + "]";
    }
    default:
      break;
  }
  bool text =
      setting.field.kind == ValueKind::kString || setting.field.comma_list;
  if (values.empty() ||
      (values[0].empty() && text && setting.field.same(config, kDefaults)))
    return "None";  // Gunicorn's "not set"
  if (setting.field.octal)
    return "0o" + values[0].substr(values[0].find_first_not_of('0') ==
                                           std::string::npos
                                       ? values[0].size() - 1
                                       : values[0].find_first_not_of('0'));
  if (setting.field.kind == ValueKind::kString || setting.field.comma_list)
    return Quoted(values[0]);
  return values[0];
}

// raw_env's entries with everything after the first '=' replaced.
std::string HiddenEnvValues(const Config& config) {
  std::string list = "[";
  for (size_t i = 0; i < config.env.size(); ++i)
    list += (i ? ", " : "") + Quoted(config.env[i].first + "=<hidden>");
  return list + "]";
}

bool Printed(const Setting& setting) {
  return !setting.internal && setting.support != Support::kRefused &&
         setting.flag != "--check-config" && setting.flag != "--print-config";
}

}  // namespace

std::vector<EffectiveSetting> EffectiveSettings(const Config& config,
                                                EnvValues env_values) {
  std::vector<EffectiveSetting> out;
  auto app_source = config.sources.find("app");
  out.push_back(
      {"wsgi_app", config.app.empty() ? "None" : Quoted(config.app),
       app_source == config.sources.end() ? "default" : app_source->second});
  for (const Setting& setting : SettingsTable()) {
    if (!Printed(setting)) continue;
    auto source = config.sources.find(SettingKey(setting));
    bool hidden =
        env_values == EnvValues::kHidden && PrintedName(setting) == "raw_env";
    out.push_back(
        {PrintedName(setting),
         hidden ? HiddenEnvValues(config) : PythonValue(setting, config),
         source == config.sources.end() ? "default" : source->second});
  }
  std::sort(out.begin(), out.end(),
            [](const EffectiveSetting& a, const EffectiveSetting& b) {
              return a.name < b.name;
            });
  return out;
}

std::string FormatSettingLines(const std::vector<EffectiveSetting>& settings) {
  size_t width = 0;
  for (const EffectiveSetting& s : settings)
    width = std::max(width, s.name.size());
  std::string text;
  for (const EffectiveSetting& s : settings)
    text += s.name + std::string(width - s.name.size(), ' ') + " = " + s.value +
            "  # " + s.source + "\n";
  return text;
}

}  // namespace wsgid
