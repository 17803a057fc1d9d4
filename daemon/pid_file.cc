#include "daemon/pid_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/log.h"

namespace wsgid {

std::string PidFilePath(const std::string& configured, bool reexec) {
  if (configured.empty()) return "";
  return configured + (reexec ? ".2" : "");
}

void PidFile::Write(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    Log(LogLevel::kError) << "cannot write pid file " << tmp << ": "
                          << std::strerror(errno);
    return;
  }
  WriteAll(fd, std::to_string(pid) + "\n");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) == 0) written_ = path;
}

void PidFile::Remove(pid_t pid) {
  if (written_.empty()) return;
  std::ifstream in(written_);
  long found = 0;
  if (in >> found && found == pid) ::unlink(written_.c_str());
  written_.clear();
}

}  // namespace wsgid
