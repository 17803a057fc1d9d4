// PidFile: the master's pid file (-p/--pid).
//
// Written once the first workers are ready (so its existence means "serving"),
// atomically (a temporary file renamed over the name), and removed at exit only
// if it still holds this process's pid: a master started by USR2 runs beside
// the old one under <pidfile>.2, and a newer master may have taken the name
// over. Loop thread only.
#pragma once

#include <sys/types.h>

#include <string>

namespace wsgid {

// The file a master writes for `--pid path`: `path`, or `path.2` for a master
// started by USR2 (`reexec`).
std::string PidFilePath(const std::string& configured, bool reexec);

class PidFile {
 public:
  // Writes `pid` to `path` (nothing for an empty path); a failure is logged.
  void Write(const std::string& path, pid_t pid);
  // Removes the file written, if it still holds `pid`.
  void Remove(pid_t pid);
  // The file written; empty if none.
  const std::string& path() const { return written_; }

 private:
  std::string written_;
};

}  // namespace wsgid
