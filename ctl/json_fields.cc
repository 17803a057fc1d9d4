#include "ctl/json_fields.h"

#include <cmath>
#include <cstdio>

namespace wsgid::ctl {
namespace {

const nlohmann::json& Null() {
  static const nlohmann::json null_value;
  return null_value;
}

}  // namespace

const nlohmann::json& Field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return Null();
  auto it = object.find(key);
  return it == object.end() ? Null() : *it;
}

std::optional<double> NumberField(const nlohmann::json& object,
                                  const char* key) {
  const nlohmann::json& value = Field(object, key);
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

std::optional<bool> BoolField(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = Field(object, key);
  if (!value.is_boolean()) return std::nullopt;
  return value.get<bool>();
}

std::string StringField(const nlohmann::json& object, const char* key,
                        const std::string& fallback) {
  const nlohmann::json& value = Field(object, key);
  if (!value.is_string()) return fallback;
  return value.get<std::string>();
}

std::string ScalarText(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer() || value.is_number_unsigned())
    return value.dump();
  if (value.is_number()) {
    double number = value.get<double>();
    char buffer[64];
    // Whole numbers stay whole; fractions get the one decimal used everywhere
    // else.
    if (std::isfinite(number) && number == std::floor(number)) {
      std::snprintf(buffer, sizeof buffer, "%.0f", number);
    } else {
      std::snprintf(buffer, sizeof buffer, "%.1f", number);
    }
    return buffer;
  }
  std::string text;
  if (value.is_array()) {
    for (const auto& item : value) {
      if (!text.empty()) text += ", ";
      text += ScalarText(item);
    }
    return text.empty() ? "-" : text;
  }
  for (const auto& [key, item] : value.items()) {
    if (!text.empty()) text += "  ";
    text += key + "=" + ScalarText(item);
  }
  return text.empty() ? "-" : text;
}

}  // namespace wsgid::ctl
