// How wsgictl writes numbers for people: fixed precision and units, never raw
// JSON.
#pragma once

#include <optional>
#include <string>

namespace wsgid::ctl {

// Seconds with one decimal: "1.2s". "-" when unknown.
std::string FormatSeconds(std::optional<double> seconds);

// A long span the way people read it: "12.5s", "5m 12s", "3h 05m", "2d 03h".
std::string FormatDuration(std::optional<double> seconds);

// Bytes as mebibytes with one decimal, without the unit (the column heading
// says MB).
std::string FormatMegabytes(std::optional<double> bytes);

// A rate with one decimal: "61.2". "-" when unknown (the first sample of top).
std::string FormatRate(std::optional<double> per_second);

// An integer, or "-" when unknown.
std::string FormatCount(std::optional<double> value);

// "on" / "off", or "-" when unknown.
std::string FormatSwitch(std::optional<bool> on);

}  // namespace wsgid::ctl
