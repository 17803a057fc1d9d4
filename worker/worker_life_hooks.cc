#include "worker/worker_life_hooks.h"

#include <signal.h>

#include <atomic>

namespace wsgid {
namespace {

std::atomic<bool> g_abort_signalled{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void RecordAbort(int) { g_abort_signalled.store(true); }

}  // namespace

void InstallAbortCatcher() {
  struct sigaction action {};
  action.sa_handler = RecordAbort;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGABRT, &action, nullptr);
}

bool AbortSignalled() { return g_abort_signalled.load(); }

}  // namespace wsgid
