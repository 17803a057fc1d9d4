#include "worker/zygote.h"

#include <Python.h>
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "common/clock.h"
#include "common/log.h"

namespace wsgid {
namespace {

// How long a new worker waits for the middle process to exit (it does so at
// once) before it gives up on being the master's child.
constexpr int kReparentPolls = 20000;  // x 50 us = 1 s
constexpr int kReparentPollUs = 50;

void Send(int channel, const std::string& message) {
  (void)::send(channel, message.data(), message.size(), MSG_NOSIGNAL);
}

// SIGUSR1 (log rotation): the handler only sets the flag; the receive loop
// reopens the logs when recvmsg returns EINTR. Forked workers inherit the
// handler until their server blocks the signal and takes it over.
volatile sig_atomic_t g_reopen_logs = 0;

void NoteReopenLogs(int) { g_reopen_logs = 1; }

void CatchReopenLogs() {
  struct sigaction action {};
  action.sa_handler = NoteReopenLogs;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: recvmsg returns EINTR
  ::sigaction(SIGUSR1, &action, nullptr);
}

// One "fork <id> <age>" packet with its fd. 1: an order; 0: the master hung up;
// -1: a malformed packet (answered with an error).
int ReceiveOrder(int channel, ForkOrder* order) {
  char text[64] = {};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec io{text, sizeof text - 1};
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC)) < 0 &&
         errno == EINTR) {
    if (g_reopen_logs) {
      g_reopen_logs = 0;
      ReopenLogs();
    }
  }
  if (n <= 0) return 0;
  order->ready_fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      std::memcpy(&order->ready_fd, CMSG_DATA(c), sizeof(int));
  char end = 0;  // set only when something follows the age
  bool parsed =
      std::sscanf(text, "fork %d %d%c", &order->id, &order->age, &end) == 2;
  if (parsed && order->id > 0 && order->age >= 0 && order->ready_fd >= 0)
    return 1;
  if (order->ready_fd >= 0) ::close(order->ready_fd);
  return -1;
}

// In the new worker: Python's state after fork, then wait until the middle
// process has exited and the master adopted us, and die with the master.
void BecomeWorker(int channel, pid_t master) {
  PyOS_AfterFork_Child();
  ::close(channel);
  for (int i = 0; i < kReparentPolls && ::getppid() != master; ++i)
    ::usleep(kReparentPollUs);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != master) {
    Log(LogLevel::kError) << "forked worker: not adopted by the master (pid "
                          << master << "); exiting";
    ::_exit(1);
  }
}

// In the middle process, which vfork made: it runs in the zygote's memory
// while the zygote waits, so it costs no copy of the app's page tables and
// its exit tears nothing down (a fork-made middle cost a second copy and its
// teardown: as much again as the worker's own fork). It forks the worker,
// stores the worker's pid (or -errno) in the zygote's `*result` and exits.
// Returns only in the worker.
void ForkFromMiddle(volatile pid_t* result) {
  pid_t child = ::fork();
  if (child == 0) return;
  *result = child < 0 ? -errno : child;
  ::_exit(0);
}

// Forks a worker. Returns true in the worker; in the zygote, false with the
// worker's pid or an error.
bool ForkWorker(int channel, pid_t master, pid_t* worker, std::string* error) {
  volatile pid_t result = 0;
  PyOS_BeforeFork();
  pid_t middle = ::vfork();
  if (middle == 0) {
    ForkFromMiddle(&result);
    BecomeWorker(channel, master);
    return true;
  }
  int vfork_errno = errno;
  PyOS_AfterFork_Parent();
  if (middle > 0)
    while (::waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
    }
  pid_t child = result;
  if (middle < 0)
    *error = std::string("vfork: ") + std::strerror(vfork_errno);
  else if (child <= 0)
    *error = std::string("fork in the middle process: ") +
             std::strerror(child < 0 ? -child : EIO);
  *worker = middle > 0 && child > 0 ? child : -1;
  return false;
}

void FreezeGarbageCollector() {
  if (PyRun_SimpleString("import gc\ngc.freeze()\n") != 0)
    Log(LogLevel::kWarning) << "zygote: gc.freeze() failed";
}

// Python's names for its threads other than the main one (the kernel's comm
// says only "wsgid-worker" for them): "" when threading was never imported.
std::string PythonThreadNames() {
  PyObject* main = PyImport_AddModule("__main__");
  PyObject* globals = main ? PyModule_GetDict(main) : nullptr;
  if (globals == nullptr) return "";
  PyObject* names = PyRun_String(
      "', '.join(t.name for t in __import__('threading').enumerate()"
      " if t is not __import__('threading').main_thread())"
      " if 'threading' in __import__('sys').modules else ''",
      Py_eval_input, globals, globals);
  std::string text;
  if (names != nullptr && PyUnicode_Check(names)) {
    const char* utf8 = PyUnicode_AsUTF8(names);
    if (utf8 != nullptr) text = utf8;
  }
  Py_XDECREF(names);
  PyErr_Clear();
  return text;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names)
    joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

std::vector<std::string> OtherThreadNames() {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return names;
  std::string self = std::to_string(::gettid());
  while (dirent* entry = ::readdir(dir)) {
    std::string tid = entry->d_name;
    if (tid == "." || tid == ".." || tid == self) continue;
    std::ifstream comm("/proc/self/task/" + tid + "/comm");
    std::string name;
    std::getline(comm, name);
    names.push_back(name.empty() ? "tid " + tid : name);
  }
  ::closedir(dir);
  return names;
}

ForkOrder RunZygote(int channel, bool freeze_gc) {
  const pid_t master = ::getppid();
  if (std::vector<std::string> threads = OtherThreadNames(); !threads.empty()) {
    std::string names = JoinNames(threads);
    if (std::string python = PythonThreadNames(); !python.empty())
      names += "; Python threads: " + python;
    Log(LogLevel::kWarning)
        << "preload: the app started " << threads.size()
        << " thread(s) while importing (" << names
        << "); forking would copy their locks held, so this generation's "
           "workers start without preload";
    Send(channel, "unsafe " + names);
    ::_exit(0);
  }
  if (freeze_gc) FreezeGarbageCollector();
  CatchReopenLogs();
  Send(channel, "ready");
  Log(LogLevel::kInfo) << "preload: zygote (pid " << ::getpid()
                       << ") imported the app"
                       << (freeze_gc ? " and froze the gc" : "");
  while (true) {
    ForkOrder order;
    int got = ReceiveOrder(channel, &order);
    if (got == 0) ::_exit(0);  // the master hung up
    if (got < 0) {
      Send(channel, "error malformed fork request");
      continue;
    }
    pid_t worker = -1;
    std::string error;
    // When this worker's start began, on the clock the master and the
    // worker's ready line use: its "ready in" counts from here.
    int64_t fork_ns = MonotonicNs();
    if (std::vector<std::string> threads = OtherThreadNames(); !threads.empty())
      error = "unsafe: threads appeared in the zygote: " + JoinNames(threads);
    else if (ForkWorker(channel, master, &worker, &error))
      return order;
    ::close(order.ready_fd);
    Send(channel, error.empty() ? "pid " + std::to_string(worker) + " " +
                                      std::to_string(fork_ns)
                                : "error " + error);
  }
}

}  // namespace wsgid
