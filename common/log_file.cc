#include "common/log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace wsgid {
namespace {

// Above the descriptors posix_spawn places and the standard three, so a dup2
// onto a low number elsewhere never lands on a log.
constexpr int kLowestLogFd = 10;

}  // namespace

LogFile::~LogFile() {
  if (fd_ >= 0) ::close(fd_);
}

void LogFile::Install(int fresh) {
  if (fd_ < 0) {
    fd_ = ::fcntl(fresh, F_DUPFD_CLOEXEC, kLowestLogFd);
    if (fd_ < 0) fd_ = fresh;  // out of descriptors: keep the one we have
    if (fd_ != fresh) ::close(fresh);
    return;
  }
  if (fresh == fd_) return;
  ::dup3(fresh, fd_, O_CLOEXEC);
  ::close(fresh);
}

Status LogFile::Open(const std::string& path, int standard_fd) {
  std::string previous = path_;
  bool was_standard = fd_ >= 0 && is_standard();
  path_ = path;
  if (is_standard()) {
    if (was_standard) return Status::Ok();
    int fresh = ::fcntl(standard_fd, F_DUPFD_CLOEXEC, 0);
    if (fresh < 0) return Status::FromErrno("cannot duplicate stdio", errno);
    Install(fresh);
    return Status::Ok();
  }
  Status s = Reopen();
  if (!s.ok()) path_ = previous;
  return s;
}

Status LogFile::Reopen() {
  if (is_standard()) return Status::Ok();
  int fresh =
      ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fresh < 0) return Status::FromErrno("cannot open " + path_, errno);
  Install(fresh);
  return Status::Ok();
}

}  // namespace wsgid
