// The kinds of Config fields a settings row points at: for each, how a value
// given as text is checked and stored, written back as text (what ToArgs puts
// on a worker's command line) and compared. Used to build the settings table
// (common/settings.cc); the rows name the field by member pointer.
//
// Error messages say what is wrong with the value ("'x' is not an integer");
// ApplySetting (common/settings.h) puts the flag in front.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/settings.h"

namespace wsgid {

// A switch: "true" or "false". Written only when on: the command line has no
// way to turn a switch off, so every switch defaults to off.
SettingField SwitchField(bool Config::*field);

// An integer in [min, max].
SettingField IntField(int Config::*field, int64_t min, int64_t max);
SettingField IntField(int64_t Config::*field, int64_t min, int64_t max);

// Seconds: a finite number, 0 or more; written in the shortest form that
// reads back as the same double.
SettingField SecondsField(double Config::*field);

// Bytes, or a number with a K, M or G suffix (powers of 1024): "200M", "1.5G".
SettingField SizeField(int64_t Config::*field);

// Text. `check`, when given, refuses a value or returns the form to store.
using TextCheck = StatusOr<std::string> (*)(const std::string& value);
SettingField TextField(std::string Config::*field, TextCheck check = nullptr);

// A file mode or mask written in octal; `read` parses and checks the text.
using OctalRead = StatusOr<int> (*)(const std::string& value);
SettingField OctalField(int Config::*field, OctalRead read);

// A list given one item per value (--bind).
SettingField ListField(std::vector<std::string> Config::*field);

// A list whose values hold comma-separated items, blanks trimmed (--pythonpath,
// --forwarded-allow-ips); written as one value, so an item cannot hold a comma.
SettingField CommaListField(std::vector<std::string> Config::*field);

// A CommaListField of peers (--forwarded-allow-ips, --proxy-allow-from): each
// item an address, a CIDR network or "*" (common/address_allow_list.h); a bad
// item is refused, named.
SettingField AddressListField(std::vector<std::string> Config::*field);

// -e VAR=VALUE pairs (Config::env).
SettingField EnvField();

// --header-map: drop, refuse or dangerous (Config::header_map).
SettingField HeaderMapField();

// A comma-separated list of file descriptors; each value replaces the list
// (--worker-listen-fds).
SettingField FdListField(std::vector<int> Config::*field);

// issue 15: rows for Gunicorn settings that change nothing here or are refused
// (Support in common/settings.h).
// Keeps the value given in Config::accepted_unused under `flag` (a switch set
// to false keeps nothing). `kind` is kBool or kString.
SettingField UnusedField(const std::string& flag, ValueKind kind);
// Refuses every value ("refused: <why>"), but a switch set to false.
SettingField RefusedField(const std::string& why, ValueKind kind);

}  // namespace wsgid
