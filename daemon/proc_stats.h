// What the master reads about processes and sockets from the kernel: /proc for
// the workers' memory and CPU, TCP_INFO for the listeners' accept queues. Each
// returns 0 when the value cannot be read (a process that just exited).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace wsgid {

// Resident memory of a process, bytes (/proc/PID/statm).
int64_t ResidentBytes(pid_t pid);
// Proportional set size: its fair share of shared pages
// (/proc/PID/smaps_rollup).
int64_t PssBytes(pid_t pid);
// How much of a process's resident memory it shares with others and how much
// is its own (/proc/PID/smaps_rollup: Shared_* and Private_*, bytes). A worker
// forked by a --preload zygote shares the app's pages with its siblings until
// it writes to them; its unshared part (USS) is what it added itself, and what
// its exit would free.
struct MemoryShares {
  int64_t shared = 0;
  int64_t unshared = 0;
};
MemoryShares ReadMemoryShares(pid_t pid);
int64_t SharedBytes(pid_t pid);
int64_t UnsharedBytes(pid_t pid);
// CPU demand of each of a process's threads, seconds, by thread id: time on a
// CPU plus time spent runnable but waiting for one
// (/proc/PID/task/*/schedstat). Unlike CPU time it does not shrink when other
// processes crowd the cores, so a GIL-bound worker demands about one second per
// second however busy the machine is. By thread, because an exited thread takes
// its figures with it: a caller takes differences over the threads it saw both
// times.
std::map<pid_t, double> CpuDemandByThread(pid_t pid);
// What a process's threads are doing at one instant, from the system call each
// is in (/proc/PID/task/*/syscall). A worker's idle app threads wait in
// epoll_wait and its main thread in rt_sigtimedwait; of the rest, a thread on
// (or waiting for) a CPU is computing, one in futex waits for a lock (the GIL,
// above all), and one in any other call (sleep, poll, recv, connect...) waits
// on I/O: the threads more of which would serve more requests.
struct ThreadStates {
  int computing = 0;
  int lock_wait = 0;
  int io_wait = 0;
  int idle = 0;     // in epoll_wait or rt_sigtimedwait
  int unknown = 0;  // unreadable (no permission, exited)
};
ThreadStates SampleThreadStates(pid_t pid);
// The state of one thread from its /proc/.../syscall text.
void CountThreadState(const std::string& syscall_text, ThreadStates* states);
// Connections waiting in a TCP listening socket's accept queue (TCP_INFO's
// tcpi_unacked); 0 for UNIX sockets.
int64_t ListenQueueLength(int listen_fd);

}  // namespace wsgid
