// Zygote: the preload process of one generation (`wsgid-worker
// --worker-zygote`, issue 16). It has imported the app (WorkerBoot::LoadApp),
// freezes the garbage collector's objects (gc.freeze(): a collection would
// otherwise write to every object's header and un-share the pages the workers
// inherited), reports to the master and then only forks workers on the master's
// request.
//
// The channel to the master is a SOCK_SEQPACKET socket in place of a worker's
// ready pipe. Messages, one per packet:
//   zygote -> master  "ready"                 forks can be asked for
//                     "unsafe <thread names>" the import left threads running:
//                                             forking would copy locks held by
//                                             them; the zygote then exits
//                     "pid <N> <T>"           the answer to a fork request:
//                                             the worker's pid, and T the
//                                             CLOCK_MONOTONIC ns just before
//                                             its fork
//                     "error <text>"          a fork request that failed
//   master -> zygote  "fork <id>" with the write end of the new worker's ready
//                     pipe attached (SCM_RIGHTS); the master sends all the
//                     requests of a batch before it reads the answers, and
//                     the zygote forks them back to back, answering each
//
// A worker is forked twice (zygote -> short-lived middle -> worker), the
// middle by vfork (it shares the zygote's memory, so only the worker's fork
// copies page tables): the middle exits at once, so the worker is re-parented
// to the master, which is a child subreaper (PR_SET_CHILD_SUBREAPER). The
// master therefore reaps and signals its workers as it does the ones it spawned
// itself (a pid it has not reaped cannot be reused), and a worker's
// PR_SET_PDEATHSIG names the master, never the zygote: a zygote that dies
// leaves its workers serving. The zygote answers "pid" only after reaping the
// middle, so by then the worker is the master's child.
//
// Main thread of the zygote only, with the GIL held; it starts no thread.
#pragma once

#include <string>
#include <vector>

namespace wsgid {

// What the forked worker is to be: its scoreboard slot and its ready pipe.
struct ForkOrder {
  int id = 0;   // the worker's slot
  int age = 0;  // its Gunicorn worker.age (hooks)
  int ready_fd = -1;
};

// Reports to the master on `channel` and serves fork requests. Returns only in
// a forked worker (its parent already the master, PR_SET_PDEATHSIG set, the
// channel closed), with its order. In the zygote it never returns: it exits
// when the master hangs up, or after reporting "unsafe".
ForkOrder RunZygote(int channel, bool freeze_gc);

// The names (/proc/self/task/*/comm) of the threads of this process other
// than the calling one; C threads count as well as Python's.
std::vector<std::string> OtherThreadNames();

}  // namespace wsgid
