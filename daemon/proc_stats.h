// What the master reads about processes and sockets from the kernel: /proc for
// the workers' memory and CPU, TCP_INFO for the listeners' accept queues. Each
// returns 0 when the value cannot be read (a process that just exited).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>

namespace wsgid {

// Resident memory of a process, bytes (/proc/PID/statm).
int64_t ResidentBytes(pid_t pid);
// Proportional set size: its fair share of shared pages
// (/proc/PID/smaps_rollup).
int64_t PssBytes(pid_t pid);
// CPU demand of each of a process's threads, seconds, by thread id: time on a
// CPU plus time spent runnable but waiting for one
// (/proc/PID/task/*/schedstat). Unlike CPU time it does not shrink when other
// processes crowd the cores, so a GIL-bound worker demands about one second per
// second however busy the machine is. By thread, because an exited thread takes
// its figures with it: a caller takes differences over the threads it saw both
// times.
std::map<pid_t, double> CpuDemandByThread(pid_t pid);
// Connections waiting in a TCP listening socket's accept queue (TCP_INFO's
// tcpi_unacked); 0 for UNIX sockets.
int64_t ListenQueueLength(int listen_fd);

}  // namespace wsgid
