// Where the master's settings come from, in order of precedence (later wins):
// defaults, the config file (-c), WSGID_* environment variables, the command
// line. Only wsgid reads files and the environment: a worker gets its settings
// on its command line (ToArgs), so this lives in daemon/.
//
// Every key and variable name comes from the settings table
// (common/settings.h), applied through ConfigLayer.
// -c wsgid.toml is wsgid's own format: `key = value` lines of TOML (strings,
// integers, floats, booleans, arrays of strings) whose keys are the long option
// names with '_' for '-'. An unknown key or a value of the wrong type is an
// error naming the file, line and key. -c gunicorn.conf.py is read for
// Gunicorn users: a Python subprocess (the daemon runs no Python itself)
// evaluates it and reports Gunicorn's setting names found among its globals;
// the ones wsgid has (the table's gunicorn column) are applied, each one it
// lacks is named in a warning; when it defines a server hook (a function
// named like one), its absolute path goes to Config::worker_hooks_file. Errors
// are InvalidArgument (a file that cannot be read: its errno's Status).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

// Applies a TOML config file's settings to *config.
Status ApplyTomlFile(const std::string& path, Config* config);
// Parses TOML text (for tests); `origin` names it in errors.
Status ApplyToml(const std::string& text, const std::string& origin,
                 Config* config);

// Applies a gunicorn.conf.py's settings; *warnings gets one line per setting
// wsgid lacks. `virtualenv` (absolute, or empty): when it is one, its python
// evaluates the file (which may import what only that venv has); else the
// Python the worker embeds does.
Status ApplyGunicornFile(const std::string& path, Config* config,
                         std::vector<std::string>* warnings,
                         const std::string& virtualenv = "");

// Applies WSGID_<SETTING> variables (WSGID_WORKERS=4, WSGID_BIND=...) from
// `environ` (a null-terminated array of NAME=VALUE). Unknown WSGID_ names are
// left alone.
Status ApplyEnvironment(char** environ, Config* config);

// The worker count when -w is not given anywhere: $WEB_CONCURRENCY when it is a
// positive number (Gunicorn's default too), else 2 x cores + 1 with the cores
// the cgroup allows; kept within --max-workers, and with --autoscale within
// --min-workers. A WEB_CONCURRENCY that is not a positive number is an error.
StatusOr<int> DefaultWorkers(const Config& config, char** environ);

// The app's virtualenv when no setting names one: $VIRTUAL_ENV from
// `environ` when set, else `installed_in` (the virtualenv wsgid is installed
// in, common/virtualenv.h's VirtualenvHolding; empty when none).
std::string DefaultVirtualenv(char** environ, const std::string& installed_in);

// The whole configuration: command line, the -c file it names, the environment;
// the worker count is never 0 in the result (DefaultWorkers). --virtualenv
// defaults to DefaultVirtualenv(environ, installed_in) and is made absolute
// against the working directory (the master's, before any --chdir), so the
// workers get the folder the master checked. The virtualenv known before the
// file is read (command line, GUNICORN_CMD_ARGS, WSGID_VIRTUALENV, else the
// default) is the one whose python evaluates a gunicorn.conf.py.
StatusOr<Config> LoadConfig(const std::vector<std::string>& args,
                            char** environ, std::vector<std::string>* warnings,
                            const std::string& installed_in = "");

}  // namespace wsgid
