#include "common/virtualenv.h"

#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

namespace wsgid {
namespace {

std::string Trim(const std::string& text) {
  size_t b = text.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = text.find_last_not_of(" \t\r");
  return text.substr(b, e - b + 1);
}

// The value of `key` in "key = value" lines; empty when absent.
std::string CfgValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    if (Trim(line.substr(0, eq)) == key) return Trim(line.substr(eq + 1));
  }
  return "";
}

std::string WithoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

StatusOr<std::string> PyvenvVersion(const std::string& pyvenv_cfg_text) {
  for (const char* key : {"version", "version_info"}) {
    std::string value = CfgValue(pyvenv_cfg_text, key);
    if (!MajorMinor(value).empty()) return value;
  }
  return Status::NotFound("pyvenv.cfg names no Python version");
}

std::string MajorMinor(const std::string& version) {
  size_t first = version.find('.');
  if (first == 0 || first == std::string::npos) return "";
  size_t end = first + 1;
  while (end < version.size() &&
         std::isdigit(static_cast<unsigned char>(version[end])))
    ++end;
  if (end == first + 1) return "";
  for (size_t i = 0; i < first; ++i)
    if (!std::isdigit(static_cast<unsigned char>(version[i]))) return "";
  return version.substr(0, end);
}

Status CheckVirtualenv(const std::string& venv_path,
                       const std::string& embedded_version) {
  std::string venv = WithoutTrailingSlashes(venv_path);
  std::ifstream cfg(venv + "/pyvenv.cfg");
  if (!cfg)
    return Status::InvalidArgument(
        "--virtualenv " + venv +
        ": not a virtualenv (it has no pyvenv.cfg; make one with python" +
        MajorMinor(embedded_version) + " -m venv " + venv + ")");
  std::stringstream text;
  text << cfg.rdbuf();
  auto version = PyvenvVersion(text.str());
  if (!version.ok())
    return Status::InvalidArgument("--virtualenv " + venv + ": its " +
                                   version.status().message());
  if (MajorMinor(*version) != MajorMinor(embedded_version))
    return Status::InvalidArgument(
        "--virtualenv " + venv + " is a virtualenv of Python " + *version +
        ", but this wsgid embeds Python " + embedded_version +
        " (the major.minor versions must match: make the virtualenv with "
        "python" +
        MajorMinor(embedded_version) +
        ", or install wsgid into it with its own pip)");
  return Status::Ok();
}

std::string VirtualenvPython(const std::string& venv_path) {
  std::string venv = WithoutTrailingSlashes(venv_path);
  std::string python3 = venv + "/bin/python3";
  if (::access(python3.c_str(), F_OK) == 0) return python3;
  return venv + "/bin/python";
}

std::string AbsolutePathFrom(const std::string& path,
                             const std::string& base_dir) {
  if (path.empty()) return "";
  std::string joined = path[0] == '/' ? path : base_dir + "/" + path;
  std::vector<std::string> parts;
  std::istringstream in(joined);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::string VirtualenvHolding(const std::string& executable) {
  size_t slash = executable.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  std::string bin_dir = executable.substr(0, slash);
  size_t parent_slash = bin_dir.rfind('/');
  if (parent_slash == std::string::npos) return "";
  std::string venv = parent_slash == 0 ? "/" : bin_dir.substr(0, parent_slash);
  if (::access((venv + "/pyvenv.cfg").c_str(), F_OK) != 0) return "";
  return venv;
}

}  // namespace wsgid
