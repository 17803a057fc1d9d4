// Virtualenv: what wsgid knows of an app's virtualenv (--virtualenv, -H,
// --home, $VIRTUAL_ENV) before any Python runs: that it is one (it has a
// pyvenv.cfg, as venv, virtualenv and uv write), which Python made it, and
// whether that is the Python the worker embeds.
//
// A virtualenv holds packages compiled for one CPython major.minor; the
// embedded interpreter of another version would import them and crash, or
// miss its own standard library. So a mismatch is refused before the first
// worker starts: by the master at start and by --check-config (it asks the
// worker binary which Python it embeds, daemon/embedded_python.h), and by a
// worker run alone.
//
// Where the app's virtualenv comes from when no setting names one:
// $VIRTUAL_ENV, else the virtualenv wsgid itself is installed in (pip put it in
// its bin/), so that a venv's wsgid run by its path serves from that venv
// whichever venv's pip built it. A relative path is made absolute once, by the
// master before any process changes directory (--chdir), so that master and
// workers check the same folder.
//
// Pure functions over text and file reads; thread-compatible.
#pragma once

#include <string>

#include "common/status.h"

namespace wsgid {

// The Python version a pyvenv.cfg names: the `version` key (venv), else
// `version_info` (virtualenv, uv), e.g. "3.12.1" or "3.12.1.final.0".
// NotFound when it names none.
StatusOr<std::string> PyvenvVersion(const std::string& pyvenv_cfg_text);

// "3.12" of "3.12.1", "3.12.1.final.0" or "3.12.1+": the part a virtualenv
// must share with the embedded interpreter. Empty when `version` is not one.
std::string MajorMinor(const std::string& version);

// Checks that `venv_path` is a virtualenv made by a Python of the same
// major.minor as `embedded_version` (the worker's, e.g. "3.11.2").
// InvalidArgument (exit 2) with a message naming both versions, or saying
// the path is no virtualenv.
Status CheckVirtualenv(const std::string& venv_path,
                       const std::string& embedded_version);

// The virtualenv's interpreter path (bin/python3, else bin/python): the
// worker's program name, from which Python finds pyvenv.cfg and so takes the
// virtualenv's sys.prefix and site-packages. It need not be executable.
std::string VirtualenvPython(const std::string& venv_path);

// `path` made absolute against `base_dir` (an absolute folder) and normalised
// as Python's os.path.abspath does it: no "." or ".." components, no repeated
// or trailing '/'. Symlinks are kept (they are not resolved). "" stays "".
std::string AbsolutePathFrom(const std::string& path,
                             const std::string& base_dir);

// The virtualenv whose bin/ holds `executable` (an absolute path): the parent
// of the executable's folder when that has a pyvenv.cfg, as Python itself
// finds its venv. Empty when it is in none.
std::string VirtualenvHolding(const std::string& executable);

}  // namespace wsgid
