#include "daemon/proc_stats.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace wsgid {

int64_t ResidentBytes(pid_t pid) {
  FILE* f =
      std::fopen(("/proc/" + std::to_string(pid) + "/statm").c_str(), "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * ::sysconf(_SC_PAGESIZE) : 0;
}

int64_t PssBytes(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  int64_t kb = 0;
  while (f >> key) {
    if (key == "Pss:") {
      f >> kb;
      return kb * 1024;
    }
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

MemoryShares ReadMemoryShares(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
  MemoryShares m;
  std::string key;
  while (f >> key) {
    int64_t kb = 0;
    bool shared = key == "Shared_Clean:" || key == "Shared_Dirty:";
    bool own = key == "Private_Clean:" || key == "Private_Dirty:";
    if (shared || own) {
      f >> kb;
      (shared ? m.shared : m.unshared) += kb * 1024;
    }
    f.ignore(1 << 20, '\n');
  }
  return m;
}

int64_t SharedBytes(pid_t pid) { return ReadMemoryShares(pid).shared; }

int64_t UnsharedBytes(pid_t pid) { return ReadMemoryShares(pid).unshared; }

namespace {

// Calls visit(tid, opened /proc/PID/task/TID/`file`) for each thread of pid;
// none when the process is gone.
template <typename Visit>
void ForEachThreadFile(pid_t pid, const char* file, Visit visit) {
  std::error_code error;
  std::filesystem::directory_iterator tasks(
      "/proc/" + std::to_string(pid) + "/task", error);
  if (error) return;
  for (const auto& task : tasks) {
    std::ifstream f(task.path() / file);
    visit(static_cast<pid_t>(std::stoi(task.path().filename())), f);
  }
}

}  // namespace

std::map<pid_t, double> CpuDemandByThread(pid_t pid) {
  std::map<pid_t, double> demand;
  ForEachThreadFile(pid, "schedstat", [&](pid_t tid, std::ifstream& f) {
    double on_cpu_ns = 0, waiting_ns = 0;
    if (f >> on_cpu_ns >> waiting_ns)
      demand[tid] = (on_cpu_ns + waiting_ns) / 1e9;
  });
  return demand;
}

void CountThreadState(const std::string& syscall_text, ThreadStates* states) {
  // "running", or "NR args... sp pc" while blocked, or "-1 sp pc" when not in
  // a system call (preempted in user space: waiting for a CPU).
  if (syscall_text.rfind("running", 0) == 0) {
    ++states->computing;
    return;
  }
  char* end = nullptr;
  long nr = std::strtol(syscall_text.c_str(), &end, 10);
  if (end == syscall_text.c_str()) {
    ++states->unknown;
  } else if (nr < 0) {
    ++states->computing;
  } else if (nr == SYS_futex) {
    ++states->lock_wait;
  } else if (nr == SYS_epoll_pwait || nr == SYS_rt_sigtimedwait
#ifdef SYS_epoll_wait
             || nr == SYS_epoll_wait
#endif
  ) {
    ++states->idle;
  } else {
    ++states->io_wait;
  }
}

ThreadStates SampleThreadStates(pid_t pid) {
  ThreadStates states;
  ForEachThreadFile(pid, "syscall", [&](pid_t, std::ifstream& f) {
    std::string text;
    std::getline(f, text);
    CountThreadState(text, &states);
  });
  return states;
}

int64_t ListenQueueLength(int listen_fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return 0;
  return info.tcpi_unacked;
}

}  // namespace wsgid
