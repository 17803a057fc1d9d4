// What the master reads about processes and sockets from the kernel: /proc for
// the workers' memory and CPU, TCP_INFO for the listeners' accept queues. Each
// returns 0 when the value cannot be read (a process that just exited).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace wsgid {

// Resident memory of a process, bytes (/proc/PID/statm).
int64_t ResidentBytes(pid_t pid);
// Proportional set size: its fair share of shared pages
// (/proc/PID/smaps_rollup).
int64_t PssBytes(pid_t pid);
// User plus system CPU time of a process, seconds (/proc/PID/stat).
double CpuSeconds(pid_t pid);
// Connections waiting in a TCP listening socket's accept queue (TCP_INFO's
// tcpi_unacked); 0 for UNIX sockets.
int64_t ListenQueueLength(int listen_fd);

}  // namespace wsgid
