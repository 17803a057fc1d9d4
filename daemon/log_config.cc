#include "daemon/log_config.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace wsgid {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!Trim(item).empty()) out.push_back(Trim(item));
  return out;
}

// The handler an ini "args=" tuple means: the first quoted string is a file
// name; sys.stdout / sys.stderr are streams.
nlohmann::json IniHandler(const std::map<std::string, std::string>& section) {
  nlohmann::json handler = nlohmann::json::object();
  auto cls = section.find("class");
  if (cls != section.end()) handler["class"] = cls->second;
  auto args = section.find("args");
  if (args == section.end()) return handler;
  const std::string& a = args->second;
  size_t q = a.find_first_of("'\"");
  if (q != std::string::npos) {
    size_t end = a.find(a[q], q + 1);
    if (end != std::string::npos)
      handler["filename"] = a.substr(q + 1, end - q - 1);
  } else if (a.find("sys.stdout") != std::string::npos) {
    handler["stream"] = "ext://sys.stdout";
  }
  return handler;
}

// The file a handler writes: its filename, "-" for a stream, "" for none.
std::string HandlerTarget(const nlohmann::json& handler) {
  if (handler.contains("filename") && handler["filename"].is_string())
    return handler["filename"].get<std::string>();
  std::string cls = handler.value("class", "");
  if (cls.find("StreamHandler") != std::string::npos) return "-";
  return "";
}

// The logger's level and first handler with a file (or stream).
void ReadLogger(const nlohmann::json& dict, const nlohmann::json& logger,
                std::string* level, std::string* target) {
  if (logger.contains("level") && logger["level"].is_string()) {
    std::string l = logger["level"].get<std::string>();
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    if (l == "warn") l = "warning";
    if (l != "notset") *level = l;
  }
  if (!logger.contains("handlers") || !dict.contains("handlers")) return;
  for (const auto& name : logger["handlers"]) {
    if (!name.is_string() ||
        !dict["handlers"].contains(name.get<std::string>()))
      continue;
    std::string t = HandlerTarget(dict["handlers"][name.get<std::string>()]);
    if (!t.empty()) {
      *target = t;
      return;
    }
  }
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

StatusOr<nlohmann::json> IniLogConfigToDict(const std::string& text) {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::string current;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = line.substr(1, line.size() - 2);
      continue;
    }
    size_t eq = line.find_first_of("=:");
    if (eq == std::string::npos || current.empty())
      return Status::InvalidArgument("not an ini line: '" + line + "'");
    sections[current][Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  nlohmann::json dict = {{"version", 1},
                         {"handlers", nlohmann::json::object()},
                         {"loggers", nlohmann::json::object()}};
  for (const std::string& name : SplitCommas(sections["handlers"]["keys"]))
    dict["handlers"][name] = IniHandler(sections["handler_" + name]);
  for (const std::string& key : SplitCommas(sections["loggers"]["keys"])) {
    auto& s = sections["logger_" + key];
    nlohmann::json logger = {{"handlers", SplitCommas(s["handlers"])}};
    if (!s["level"].empty()) logger["level"] = s["level"];
    if (key == "root")
      dict["root"] = logger;
    else
      dict["loggers"][s["qualname"].empty() ? key : s["qualname"]] = logger;
  }
  return dict;
}

Status ApplyLogConfigDict(const nlohmann::json& dict, Config* config) {
  if (!dict.is_object())
    return Status::InvalidArgument("a logging dictConfig must be an object");
  std::string level, error_target, access_target;
  nlohmann::json none = nlohmann::json::object();
  const nlohmann::json& loggers =
      dict.contains("loggers") ? dict["loggers"] : none;
  if (dict.contains("root"))
    ReadLogger(dict, dict["root"], &level, &error_target);
  if (loggers.contains("gunicorn.error"))
    ReadLogger(dict, loggers["gunicorn.error"], &level, &error_target);
  std::string ignored_level;
  if (loggers.contains("gunicorn.access"))
    ReadLogger(dict, loggers["gunicorn.access"], &ignored_level,
               &access_target);
  if (!level.empty()) config->log_level = level;
  if (!error_target.empty()) config->error_logfile = error_target;
  if (!access_target.empty()) config->access_logfile = access_target;
  return Status::Ok();
}

Status ApplyLogConfig(Config* config) {
  try {
    if (!config->log_config.empty()) {
      auto text = ReadFile(config->log_config);
      if (!text.ok())
        return Status::InvalidArgument("--log-config: " +
                                       text.status().message());
      auto dict = IniLogConfigToDict(*text);
      if (!dict.ok())
        return Status::InvalidArgument("--log-config " + config->log_config +
                                       ": " + dict.status().message());
      if (Status s = ApplyLogConfigDict(*dict, config); !s.ok()) return s;
    }
    if (!config->log_config_dict.empty()) {
      Status s = ApplyLogConfigDict(
          nlohmann::json::parse(config->log_config_dict), config);
      if (!s.ok())
        return Status::InvalidArgument("--log-config-dict: " + s.message());
    }
    if (!config->log_config_json.empty()) {
      auto text = ReadFile(config->log_config_json);
      if (!text.ok())
        return Status::InvalidArgument("--log-config-json: " +
                                       text.status().message());
      Status s = ApplyLogConfigDict(nlohmann::json::parse(*text), config);
      if (!s.ok())
        return Status::InvalidArgument("--log-config-json: " + s.message());
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("logging config is not JSON: ") +
                                   e.what());
  }
  // The level must still be one wsgid knows (a Python custom level is not).
  if (config->log_level != "debug" && config->log_level != "info" &&
      config->log_level != "warning" && config->log_level != "error" &&
      config->log_level != "critical")
    return Status::InvalidArgument("logging config: unknown level '" +
                                   config->log_level + "'");
  return Status::Ok();
}

}  // namespace wsgid
