// The settings table: one row per setting of wsgid and wsgid-worker.
//
// A row holds everything about a setting but its typed home (a Config field,
// whose member initializer is the default): the command-line names, the
// gunicorn.conf.py name, the processes that read it, its --help line, an
// example value, and how to read and write its Config field. Everything that
// lists settings is derived from the table: the command-line parser and
// ToArgs (common/config.h), --help (UsageText), the file and environment
// readers (daemon/config_file.h, through ConfigLayer) and the round-trip unit
// test. Adding a setting is a Config field, one row here, and the code that
// uses it.
//
// Names derived from the long flag, never written twice:
//   the TOML key and ConfigLayer key: "--graceful-timeout" -> graceful_timeout
//     (graceful-timeout and a long alias's key are accepted too);
//   the environment variable: WSGID_GRACEFUL_TIMEOUT.
// Internal rows (--worker-*) are what the master tells one worker; they are
// read from the command line only (no file, no environment, not in --help).
//
// The table is built once, on first use, and read-only after that: safe to
// read from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace wsgid {

struct Config;

// The kinds of values settings take. kSize is bytes: an integer, or text with a
// K, M or G suffix (powers of 1024) such as "512M". The file readers check a
// value's type against the kind.
enum class ValueKind { kBool, kInt, kSeconds, kString, kList, kSize };

// The processes that read a setting. ToArgs hands a worker the rows it needs.
enum class Needs { kMaster = 1, kWorker = 2, kBoth = 3 };

// True when a row that `row` processes need is needed by any of `reader`.
inline bool NeededBy(Needs row, Needs reader) {
  return (static_cast<int>(row) & static_cast<int>(reader)) != 0;
}

// How a row reads and writes its Config field (built by the helpers in
// common/setting_fields.h).
struct SettingField {
  ValueKind kind = ValueKind::kString;
  // Written in octal (a mode or mask): a number that arrives as a number, not
  // text (Python reads 0o027 as 23), is written back in octal first.
  bool octal = false;
  // A list written as one comma-separated value (--pythonpath): printed as
  // one string, as Gunicorn's own value is.
  bool comma_list = false;
  // Applies one value given as text: a switch gets "true" or "false", a list
  // one item (or, for comma lists, several separated by ','), appended. The
  // error says what is wrong with the value; the caller names the setting.
  std::function<Status(Config&, const std::string&)> parse;
  // The values that parse back to the field: one per item for a list written
  // item by item, none for a switch that is off.
  std::function<std::vector<std::string>(const Config&)> format;
  // Whether two configs agree on this field.
  std::function<bool(const Config&, const Config&)> same;
  // Empties a list (null for the other kinds).
  std::function<void(Config&)> clear;
};

// What wsgid does with a setting (issue 15): every Gunicorn setting has one
// of these answers, so nothing Gunicorn accepts is ignored in silence.
//   kImplemented: it does what Gunicorn's does (or wsgid's own setting).
//   kMeansNothing: accepted (the value is parsed and kept, for
//     --print-config), and one info line at start says why it changes nothing.
//   kRefused: setting it is an error naming the setting, why, and what to use
//     instead (a switch set to false is accepted: it asks for nothing).
enum class Support { kImplemented, kMeansNothing, kRefused };

struct Setting {
  std::string flag;                  // the long option: "--bind"
  std::vector<std::string> aliases;  // other command-line names: "-b"
  std::string gunicorn;  // its name in gunicorn.conf.py ("" when none)
  Needs needs;           // which processes read it
  bool internal;         // set by the master on a worker's command line only
  std::string metavar;   // the value in --help ("ADDRESS"; "" for switches)
  // The --help text; '\n' starts a continuation line. Consecutive rows with
  // the same text share one --help line ("--min-workers N, --min-threads N").
  std::string help;
  std::string example;  // a valid value other than the default (tests)
  SettingField field;
  Support support = Support::kImplemented;
  // kMeansNothing: why it changes nothing here; kRefused: why, and what to
  // use instead. Both are whole sentences, shown as they are.
  std::string why = "";
};

// Every setting, in --help order (internal rows last).
const std::vector<Setting>& SettingsTable();

// The row a command-line name ("--bind", "-b", "--log-file") names, or null.
const Setting* FindSettingByName(const std::string& name);

// The row a file or environment key names ("graceful_timeout",
// "graceful-timeout" or "--graceful-timeout"), or null; internal rows are
// never found.
const Setting* FindSettingByKey(const std::string& key);

// The TOML key of a row: "graceful_timeout".
std::string SettingKey(const Setting& setting);

// The environment variable of a row: "WSGID_GRACEFUL_TIMEOUT".
std::string SettingEnvVar(const Setting& setting);

// The name --print-config and /v1/config give a row: Gunicorn's, else the
// TOML key.
std::string PrintedName(const Setting& setting);

// Applies one value to the row's field; an error names the row's flag
// ("--workers: 'x' is not an integer").
Status ApplySetting(const Setting& setting, const std::string& value,
                    Config* config);

}  // namespace wsgid
