// Tolerant reads of the daemon's JSON: a missing or mistyped field becomes
// "unknown" (shown as "-") instead of an exception, so a newer or older daemon
// still prints.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace wsgid::ctl {

std::optional<double> NumberField(const nlohmann::json& object,
                                  const char* key);
std::optional<bool> BoolField(const nlohmann::json& object, const char* key);
// The string at `key`, or `fallback`.
std::string StringField(const nlohmann::json& object, const char* key,
                        const std::string& fallback = "-");
// The value at `key`, or a null json when absent.
const nlohmann::json& Field(const nlohmann::json& object, const char* key);

// Any scalar as text for a key/value listing: numbers without noise, booleans
// as yes/no, arrays of scalars comma-separated, objects as key=value pairs.
std::string ScalarText(const nlohmann::json& value);

}  // namespace wsgid::ctl
