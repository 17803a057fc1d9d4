#include "worker/stdio_relay.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/syslog_sink.h"
#include "worker/record_grouper.h"

namespace wsgid {
namespace {

int g_inherited_stdout = STDOUT_FILENO;

// A quiet stream's pending record (a traceback that may go on) is written
// after this long.
constexpr int kQuietFlushMs = 100;
// A line longer than this is written in pieces.
constexpr size_t kMaxLine = 64 * 1024;

void SaveInheritedStdout() {
  if (g_inherited_stdout != STDOUT_FILENO) return;
  int fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 10);
  if (fd >= 0) g_inherited_stdout = fd;
}

struct Stream {
  int fd;
  const char* name;  // stdout, stderr
  std::string partial;
  RecordGrouper grouper;
  bool would_block = false;  // the last read found the pipe empty
};

void Emit(const Stream& s, const std::vector<GroupedRecord>& records) {
  for (const GroupedRecord& r : records) {
    LogLevel level = r.multiline_kind || s.name[3] == 'e' ? LogLevel::kError
                                                          : LogLevel::kInfo;
    LogStreamRecord(level, s.name, r.text);
  }
}

// Reads what is there; false at EOF.
bool Drain(Stream* s) {
  char buf[16384];
  ssize_t n = ::read(s->fd, buf, sizeof buf);
  s->would_block = n < 0 && errno == EAGAIN;
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  s->partial.append(buf, static_cast<size_t>(n));
  size_t start = 0, nl;
  while ((nl = s->partial.find('\n', start)) != std::string::npos) {
    Emit(*s, s->grouper.Add(
                 std::string_view(s->partial).substr(start, nl - start)));
    start = nl + 1;
  }
  s->partial.erase(0, start);
  if (s->partial.size() > kMaxLine) {
    Emit(*s, s->grouper.Add(s->partial));
    s->partial.clear();
  }
  return true;
}

void CloseAllBut(const std::vector<int>& keep) {
  std::vector<int> doomed;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(dir)) {
      int fd = std::atoi(e->d_name);
      if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == ::dirfd(dir))
        continue;
      bool kept = fd <= STDERR_FILENO;
      for (int k : keep) kept = kept || k == fd;
      if (!kept) doomed.push_back(fd);
    }
    ::closedir(dir);
  }
  for (int fd : doomed) ::close(fd);
}

// SIGUSR1: what the app printed before the signal belongs to the old file, so
// it is read and written out (pending tracebacks too) before the reopen.
void Reopen(int sig_fd, Stream* streams) {
  signalfd_siginfo info;
  while (::read(sig_fd, &info, sizeof info) == sizeof info) {
  }
  for (int i = 0; i < 2; ++i) {
    Stream& s = streams[i];
    while (s.fd >= 0 && Drain(&s) && !s.would_block) {
    }
    Emit(s, s.grouper.Flush());
  }
  ReopenLogs();
}

// The relay process: never returns.
[[noreturn]] void RunRelay(int out_read, int err_read, int worker_pid) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  // The master's stop signals are for the worker: the relay ends at EOF.
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE})
    ::signal(sig, SIG_IGN);
  int sig_fd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  SyslogSink* sink = ErrorSyslog();
  CloseAllBut(
      {out_read, err_read, sig_fd, ErrorLogFd(), sink ? sink->fd() : -1});
  // Descriptor 0 may be the parent's own channel (the hook helper's event
  // socket): the relay, which can outlive its parent, must not hold it open.
  if (int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC); null >= 0) {
    if (null != STDIN_FILENO) {
      ::dup2(null, STDIN_FILENO);
      ::close(null);
    }
  }
  SetLogRecordPid(worker_pid);
  for (int fd : {out_read, err_read})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  Stream streams[] = {{out_read, "stdout", {}, {}, false},
                      {err_read, "stderr", {}, {}, false}};
  int open_streams = 2;
  while (open_streams > 0) {
    pollfd fds[3] = {{streams[0].fd, POLLIN, 0},
                     {streams[1].fd, POLLIN, 0},
                     {sig_fd, POLLIN, 0}};
    int ready = ::poll(fds, 3, kQuietFlushMs);
    if (ready == 0) {
      for (Stream& s : streams) Emit(s, s.grouper.Flush());
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0 || streams[i].fd < 0) continue;
      if (!Drain(&streams[i])) {
        Stream& s = streams[i];
        if (!s.partial.empty()) Emit(s, s.grouper.Add(s.partial));
        Emit(s, s.grouper.Flush());
        ::close(s.fd);
        s.fd = -1;  // poll ignores a negative fd
        --open_streams;
      }
    }
    if (fds[2].revents != 0) Reopen(sig_fd, streams);
  }
  ::_exit(0);
}

}  // namespace

int InheritedStdoutFd() { return g_inherited_stdout; }

Status RedirectStdioToErrorLog() {
  SaveInheritedStdout();
  auto point = [] {
    ::dup2(ErrorLogFd(), STDOUT_FILENO);
    ::dup2(ErrorLogFd(), STDERR_FILENO);
  };
  point();
  AddLogReopener(point);
  return Status::Ok();
}

Status StartStdioRelay() {
  SaveInheritedStdout();
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return Status::FromErrno("stdio relay pipe", errno);
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Status::FromErrno("stdio relay pipe", errno);
  }
  int worker_pid = static_cast<int>(::getpid());
  pid_t relay = ::fork();
  if (relay < 0) return Status::FromErrno("stdio relay fork", errno);
  if (relay == 0) RunRelay(out[0], err[0], worker_pid);
  ::close(out[0]);
  ::close(err[0]);
  ::dup2(out[1], STDOUT_FILENO);
  ::dup2(err[1], STDERR_FILENO);
  ::close(out[1]);
  ::close(err[1]);
  AddLogReopener([relay] { ::kill(relay, SIGUSR1); });
  return Status::Ok();
}

}  // namespace wsgid
