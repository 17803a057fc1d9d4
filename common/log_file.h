// A log file at a descriptor number that never changes, so that reopening it
// after rotation races with no writer: Reopen() opens the path again and
// dup3()s the new file over the same number, which the kernel does atomically.
// A write(2) in flight finishes in the old file or starts in the new one; no
// line is split or lost, and no writer ever sees a closed or reused fd.
//
// "-" (or empty) means the process's own stdout or stderr, which it never
// reopens (the process that started wsgid owns those).
//
// Who calls: Open and Reopen from one thread at a time (boot, the signal
// path); fd() from any thread.
#pragma once

#include <string>

#include "common/status.h"

namespace wsgid {

class LogFile {
 public:
  LogFile() = default;
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Opens `path` (O_APPEND, created 0644) or, for "-", a duplicate of
  // `standard_fd` (1 or 2). Called again with another path, it moves the same
  // fd number there; called again with "-" while on "-", it keeps what it has:
  // the process's 1 or 2 may have been pointed elsewhere since (a preload
  // zygote's stdio relay, inherited by the workers it forks).
  Status Open(const std::string& path, int standard_fd);
  // Opens the path again (after logrotate renamed it). A no-op for "-".
  Status Reopen();
  // The descriptor to write(2) to; -1 before Open.
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool is_standard() const { return path_.empty() || path_ == "-"; }

 private:
  // Places `fresh` at fd_ (or makes it fd_ the first time) and closes it.
  void Install(int fresh);
  std::string path_;
  int fd_ = -1;
};

}  // namespace wsgid
