#include "common/config.h"

#include <algorithm>

#include "common/scoreboard.h"
#include "common/tls_settings.h"

namespace wsgid {
namespace {

// One command-line item read: the name as written, its value if any.
struct Option {
  std::string name;   // "--workers", "-w"
  std::string value;  // "4" (from "--workers=4", "-w4" or the next argument)
  bool has_value = false;
};

// Splits "--flag=value" and "-wVALUE" (getopt style); otherwise the whole
// argument is the name.
Option SplitOption(const std::string& arg) {
  Option option{arg, "", false};
  if (size_t eq = arg.find('=');
      arg.rfind("--", 0) == 0 && eq != std::string::npos) {
    option = {arg.substr(0, eq), arg.substr(eq + 1), true};
  } else if (arg[1] != '-' && arg.size() > 2) {
    option = {arg.substr(0, 2), arg.substr(2), true};
  }
  return option;
}

// Applies the option args[*i] (and its value, which may be args[*i + 1]).
Status ApplyOption(const std::vector<std::string>& args, size_t* i,
                   ConfigLayer* layer, Config* config) {
  Option option = SplitOption(args[*i]);
  const Setting* setting = FindSettingByName(option.name);
  if (setting == nullptr)
    return Status::InvalidArgument("unknown option '" + option.name + "'");
  bool takes_value = setting->field.kind != ValueKind::kBool;
  if (takes_value && !option.has_value) {
    if (*i + 1 >= args.size())
      return Status::InvalidArgument(option.name + " needs a value");
    option.value = args[++*i];
  } else if (!takes_value && option.has_value) {
    return Status::InvalidArgument(option.name + " takes no value");
  }
  if (!takes_value) option.value = "true";
  // Internal settings are the master's word to one worker: no layers.
  if (setting->internal) return ApplySetting(*setting, option.value, config);
  return layer->Set(setting->flag, option.value);
}

// --help's lines wrap before this many columns.
constexpr size_t kUsageWidth = 76;

// An alias that only spells the flag with '_' for '-' (Gunicorn's
// --limit-request-field_size): accepted, not worth a place in --help.
bool IsSpellingOf(const std::string& alias, const std::string& flag) {
  std::string dashed = alias;
  for (char& c : dashed)
    if (c == '_') c = '-';
  return dashed == flag;
}

// "  -b, --bind ADDRESS", "  -H, --virtualenv, --home PATH": the short name,
// if any, the long one, then the other long names.
std::string UsageLabel(const Setting& setting) {
  std::string label = "    ";
  for (const std::string& alias : setting.aliases)
    if (alias.size() == 2 && alias[0] == '-') label = alias + ", ";
  label += setting.flag;
  for (const std::string& alias : setting.aliases)
    if (alias.size() > 2 && !IsSpellingOf(alias, setting.flag))
      label += ", " + alias;
  if (!setting.metavar.empty()) label += " " + setting.metavar;
  return label;
}

std::string Trimmed(const std::string& label) {
  return label.substr(label.find_first_not_of(' '));
}

// One --help entry: the labels, then the text from column 30 (or two spaces
// after a longer label), continuation lines indented to that column.
std::string UsageEntry(const std::string& labels, const std::string& help) {
  constexpr size_t kColumn = 30;
  std::string entry = "  " + labels;
  size_t newline = entry.rfind('\n');
  size_t width =
      newline == std::string::npos ? entry.size() : entry.size() - newline - 1;
  entry +=
      width < kColumn ? std::string(kColumn - width, ' ') : std::string("  ");
  for (char c : help)
    entry += c == '\n' ? "\n" + std::string(kColumn, ' ') : std::string(1, c);
  return entry + "\n";
}

}  // namespace

StatusOr<ValueKind> ConfigLayer::KindOf(const std::string& key) {
  const Setting* setting = FindSettingByKey(key);
  if (setting == nullptr)
    return Status::InvalidArgument("unknown setting '" + key + "'");
  return setting->field.kind;
}

void ConfigLayer::Clear(const std::string& key) {
  const Setting* setting = FindSettingByKey(key);
  if (setting == nullptr || setting->field.kind != ValueKind::kList) return;
  if (std::find(lists_replaced_.begin(), lists_replaced_.end(), setting) ==
      lists_replaced_.end())
    lists_replaced_.push_back(setting);
  setting->field.clear(*config_);
}

Status ConfigLayer::Set(const std::string& key, const std::string& value) {
  const Setting* setting = FindSettingByKey(key);
  if (setting == nullptr)
    return Status::InvalidArgument("unknown setting '" + key + "'");
  ValueKind kind = setting->field.kind;
  if (kind == ValueKind::kBool && value != "true" && value != "false")
    return Status::InvalidArgument(key + ": expected true or false");
  // A list given by this source replaces what earlier sources said.
  if (kind == ValueKind::kList &&
      std::find(lists_replaced_.begin(), lists_replaced_.end(), setting) ==
          lists_replaced_.end())
    Clear(key);
  Status s = ApplySetting(*setting, value, config_);
  if (s.ok() && !source_.empty())
    config_->sources[SettingKey(*setting)] = source_;
  return s;
}

StatusOr<Config> ParseCommandLine(const std::vector<std::string>& args,
                                  const Config& base,
                                  const std::string& source) {
  Config config = base;
  ConfigLayer layer(&config, source);
  bool app_given = false;  // the command line's app replaces a config file's
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() >= 2 && arg[0] == '-') {
      if (Status s = ApplyOption(args, &i, &layer, &config); !s.ok()) return s;
      continue;
    }
    if (app_given)
      return Status::InvalidArgument("unexpected argument '" + arg +
                                     "' (the app is '" + config.app + "')");
    config.app = arg;
    config.sources["app"] = source;
    app_given = true;
  }
  return config;
}

Status ValidateConfig(const Config& config) {
  if (config.app.empty())
    return Status::InvalidArgument("no application given (MODULE:CALLABLE)");
  if (config.app[0] == '-')
    return Status::InvalidArgument("application '" + config.app +
                                   "' starts with '-' (a module name cannot)");
  size_t colon = config.app.find(':');
  std::string module = config.app.substr(0, colon);
  if (module.empty())
    return Status::InvalidArgument("application '" + config.app +
                                   "' has no module (MODULE:CALLABLE)");
  if (colon != std::string::npos && colon + 1 == config.app.size())
    return Status::InvalidArgument("application '" + config.app +
                                   "' has an empty callable name");
  if (config.workers < 0)
    return Status::InvalidArgument("--workers must be at least 1");
  if (config.max_threads != 0 && config.max_threads < config.threads)
    return Status::InvalidArgument(
        "--max-threads " + std::to_string(config.max_threads) +
        " is below --threads " + std::to_string(config.threads));
  if (config.threads < 1 || config.threads > kMaxThreadsPerWorker)
    return Status::InvalidArgument("--threads must be between 1 and " +
                                   std::to_string(kMaxThreadsPerWorker));
  for (double seconds :
       {config.timeout, config.graceful_timeout, config.keep_alive,
        config.header_timeout, config.io_timeout, config.request_timeout,
        config.abort_grace})
    if (!(seconds >= 0))
      return Status::InvalidArgument("timeouts cannot be negative");
  if (config.timeout <= 0)
    return Status::InvalidArgument("--timeout must be greater than 0");
  if (config.limit_request_fields < 1)
    return Status::InvalidArgument("--limit-request-fields must be at least 1");
  if (config.limit_request_line < 0 || config.limit_request_field_size < 0)
    return Status::InvalidArgument("request limits cannot be negative");
  if (config.limit_request_body < -1)
    return Status::InvalidArgument(
        "--limit-request-body must be -1 (unlimited) or more");
  for (const std::string& p : config.pythonpath)
    if (p.find(',') != std::string::npos)
      return Status::InvalidArgument("--pythonpath: '" + p +
                                     "' contains a comma (the list separator)");
  if (config.workers > config.max_workers)
    return Status::InvalidArgument(
        "--workers " + std::to_string(config.workers) +
        " is above --max-workers " + std::to_string(config.max_workers));
  return CheckTlsSettings(config);  // issue 17
}

std::vector<std::string> ToArgs(const Config& config, Needs reader) {
  static const Config kDefaults;
  std::vector<std::string> args;
  for (const Setting& setting : SettingsTable()) {
    if (!NeededBy(setting.needs, reader) ||
        setting.field.same(config, kDefaults))
      continue;
    for (const std::string& value : setting.field.format(config))
      args.push_back(setting.field.kind == ValueKind::kBool
                         ? setting.flag
                         : setting.flag + "=" + value);
  }
  args.push_back(config.app);
  return args;
}

std::string UsageText(const std::string& program) {
  std::string text = "usage: " + program +
                     " [options] MODULE:CALLABLE\n"
                     "\n"
                     "Serves a Python WSGI application with a supervised pool "
                     "of worker processes.\n"
                     "\n";
  const std::vector<Setting>& table = SettingsTable();
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].internal) continue;
    // Rows with the same help text share its line.
    // A long list of them wraps, and its help starts on a line of its own.
    std::string labels = UsageLabel(table[i]);
    size_t line_start = 0;
    while (i + 1 < table.size() && table[i + 1].help == table[i].help) {
      std::string next = Trimmed(UsageLabel(table[++i]));
      if (labels.size() - line_start + next.size() + 2 > kUsageWidth) {
        labels += ",\n      ";
        line_start = labels.size() - 4;
      } else {
        labels += ", ";
      }
      labels += next;
    }
    if (line_start > 0) labels += "\n    ";
    text += UsageEntry(labels, table[i].help);
  }
  text += UsageEntry("-h, --help", "this text");
  text += UsageEntry("    --version", "print the version");
  return text;
}

}  // namespace wsgid
