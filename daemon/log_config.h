// Gunicorn's logging configuration files (--log-config, an ini file for
// Python's logging.config.fileConfig; --log-config-dict and --log-config-json,
// a dictConfig), read for what wsgid's C++ logging can do with them: the
// level, and the files of the handlers of the "gunicorn.error" logger (else
// the root logger) and of "gunicorn.access". A StreamHandler means stderr
// ("-") for the error log and stdout for the access log. Formatters, filters
// and other handler classes are not used (README "Logging").
//
// Called by LoadConfig after the sources are merged, so a reload reads the
// files again. Pure but for reading the named file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

// Applies whichever of log_config, log_config_dict, log_config_json is set
// (the last one given in that order wins) to error_logfile, log_level and
// access_logfile. Errors name the file or setting and what is wrong.
Status ApplyLogConfig(Config* config);

// An ini file's text as the dictConfig it means (unit-tested).
StatusOr<nlohmann::json> IniLogConfigToDict(const std::string& text);

// Applies a dictConfig to `config`.
Status ApplyLogConfigDict(const nlohmann::json& dict, Config* config);

}  // namespace wsgid
