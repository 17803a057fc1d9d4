#include "ctl/format.h"

#include <cmath>
#include <cstdio>

namespace wsgid::ctl {
namespace {

constexpr char kUnknown[] = "-";

std::string Printf(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

std::string FormatSeconds(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds)) return kUnknown;
  return Printf("%.1fs", *seconds);
}

std::string FormatDuration(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds)) return kUnknown;
  if (*seconds < 60) return FormatSeconds(seconds);
  auto total = static_cast<long long>(*seconds);
  long long days = total / 86400;
  long long hours = total % 86400 / 3600;
  long long minutes = total % 3600 / 60;
  long long secs = total % 60;
  char buffer[64];
  if (days > 0) {
    std::snprintf(buffer, sizeof buffer, "%lldd %02lldh", days, hours);
  } else if (hours > 0) {
    std::snprintf(buffer, sizeof buffer, "%lldh %02lldm", hours, minutes);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lldm %02llds", minutes, secs);
  }
  return buffer;
}

std::string FormatMegabytes(std::optional<double> bytes) {
  if (!bytes || !std::isfinite(*bytes)) return kUnknown;
  return Printf("%.1f", *bytes / (1024.0 * 1024.0));
}

std::string FormatRate(std::optional<double> per_second) {
  if (!per_second || !std::isfinite(*per_second)) return kUnknown;
  return Printf("%.1f", *per_second);
}

std::string FormatCount(std::optional<double> value) {
  if (!value || !std::isfinite(*value)) return kUnknown;
  return Printf("%.0f", *value);
}

std::string FormatSwitch(std::optional<bool> on) {
  if (!on) return kUnknown;
  return *on ? "on" : "off";
}

}  // namespace wsgid::ctl
