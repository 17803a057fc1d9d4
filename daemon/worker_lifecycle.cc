#include "daemon/worker_lifecycle.h"

namespace wsgid {
namespace {

using S = LifecycleState;
using E = LifecycleEvent;
using Sig = LifecycleSignal;
using R = ReasonRule;

// One row per (state, event) that makes sense; the order is for reading.
constexpr LifecycleTransition kTable[] = {
    // Starting: importing the app. Judged by the boot timeout, not frozen.
    {S::kStarting, E::kReadyLine, S::kReady, Sig::kNone, R::kKeep},
    {S::kStarting, E::kRecycle, S::kRecyclingStarting, Sig::kNone, R::kTake},
    {S::kStarting, E::kDrain, S::kDraining, Sig::kTerm, R::kTake},
    {S::kStarting, E::kStop, S::kDraining, Sig::kForward, R::kTake},
    {S::kStarting, E::kKill, S::kDraining, Sig::kKill, R::kTake},
    {S::kStarting, E::kRevert, S::kDraining, Sig::kKill, R::kKeep},
    {S::kStarting, E::kBootTimeout, S::kKilled, Sig::kKill, R::kTake},
    {S::kStarting, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Restarted before it was ready: as starting, but already on its way out.
    {S::kRecyclingStarting, E::kReadyLine, S::kRecycling, Sig::kNone, R::kKeep},
    {S::kRecyclingStarting, E::kRecycle, S::kRecyclingStarting, Sig::kNone,
     R::kTake},
    {S::kRecyclingStarting, E::kDrain, S::kDraining, Sig::kTerm, R::kKeep},
    {S::kRecyclingStarting, E::kStop, S::kDraining, Sig::kForward, R::kKeep},
    {S::kRecyclingStarting, E::kKill, S::kDraining, Sig::kKill, R::kTake},
    {S::kRecyclingStarting, E::kRevert, S::kDraining, Sig::kKill, R::kKeep},
    {S::kRecyclingStarting, E::kBootTimeout, S::kKilled, Sig::kKill, R::kTake},
    {S::kRecyclingStarting, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Ready: serving.
    {S::kReady, E::kRecycle, S::kRecycling, Sig::kNone, R::kTake},
    {S::kReady, E::kDrain, S::kDraining, Sig::kTerm, R::kTake},
    {S::kReady, E::kStop, S::kDraining, Sig::kForward, R::kTake},
    {S::kReady, E::kKill, S::kDraining, Sig::kKill, R::kTake},
    {S::kReady, E::kRevert, S::kDraining, Sig::kKill, R::kKeep},
    {S::kReady, E::kFrozen, S::kAborting, Sig::kAbort, R::kTake},
    {S::kReady, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Recycling: serving until its replacement is ready; drained with the
    // reason it was marked with. A restart marks it again (reason: exit).
    {S::kRecycling, E::kRecycle, S::kRecycling, Sig::kNone, R::kTake},
    {S::kRecycling, E::kDrain, S::kDraining, Sig::kTerm, R::kKeep},
    {S::kRecycling, E::kStop, S::kDraining, Sig::kForward, R::kKeep},
    {S::kRecycling, E::kKill, S::kDraining, Sig::kKill, R::kTake},
    {S::kRecycling, E::kRevert, S::kDraining, Sig::kKill, R::kKeep},
    {S::kRecycling, E::kFrozen, S::kAborting, Sig::kAbort, R::kTake},
    {S::kRecycling, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Draining: its exit is expected. A worker superseded before it was ready
    // may still write its ready line; one that freezes while finishing its
    // requests goes down the timeout ladder.
    {S::kDraining, E::kReadyLine, S::kDraining, Sig::kNone, R::kKeep},
    {S::kDraining, E::kStop, S::kDraining, Sig::kForward, R::kKeep},
    {S::kDraining, E::kRevert, S::kDraining, Sig::kKill, R::kKeep},
    {S::kDraining, E::kFrozen, S::kAborting, Sig::kAbort, R::kTake},
    {S::kDraining, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Aborting: dumping its stacks; SIGKILL when the grace is over, or sooner
    // when asked. Its replacement was started when it froze.
    {S::kAborting, E::kAbortGraceExpired, S::kKilled, Sig::kKill, R::kKeep},
    {S::kAborting, E::kStop, S::kAborting, Sig::kForward, R::kKeep},
    {S::kAborting, E::kKill, S::kKilled, Sig::kKill, R::kTake},
    {S::kAborting, E::kRevert, S::kKilled, Sig::kKill, R::kKeep},
    {S::kAborting, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Killed by the ladder: waiting to be reaped. A worker killed past the
    // boot timeout may have written its ready line meanwhile.
    {S::kKilled, E::kReadyLine, S::kKilled, Sig::kNone, R::kKeep},
    {S::kKilled, E::kStop, S::kKilled, Sig::kForward, R::kKeep},
    {S::kKilled, E::kRevert, S::kKilled, Sig::kKill, R::kKeep},
    {S::kKilled, E::kReaped, S::kExited, Sig::kNone, R::kKeep},
    // Exited: terminal; the pool has already forgotten it.
};

using A = ExitAccounting;
using P = WorkerState;

// Indexed by LifecycleState.
constexpr LifecycleStateInfo kStates[] = {
    // state, name, public, serving, before_ready, marked, on_exit
    {S::kStarting, "starting", P::kStarting, true, true, false, A::kUnexpected},
    {S::kRecyclingStarting, "recycling_starting", P::kStarting, true, true,
     true, A::kUnexpected},
    {S::kReady, "ready", P::kReady, true, false, false, A::kUnexpected},
    {S::kRecycling, "recycling", P::kReady, true, false, true, A::kUnexpected},
    {S::kDraining, "draining", P::kDraining, false, false, false, A::kExpected},
    {S::kAborting, "aborting", P::kDraining, false, false, false,
     A::kAfterTimeout},
    {S::kKilled, "killed", P::kDraining, false, false, false, A::kAfterTimeout},
    {S::kExited, "exited", P::kDraining, false, false, false, A::kNone},
};

constexpr bool StatesInOrder() {
  for (size_t i = 0; i < std::size(kStates); ++i)
    if (kStates[i].state != kLifecycleStates[i]) return false;
  return std::size(kStates) == std::size(kLifecycleStates);
}
static_assert(StatesInOrder(), "kStates is indexed by LifecycleState");

}  // namespace

const LifecycleStateInfo& StateInfo(LifecycleState state) {
  return kStates[static_cast<size_t>(state)];
}

std::string_view LifecycleEventName(LifecycleEvent event) {
  switch (event) {
    case E::kReadyLine:
      return "ready_line";
    case E::kRecycle:
      return "recycle";
    case E::kDrain:
      return "drain";
    case E::kStop:
      return "stop";
    case E::kKill:
      return "kill";
    case E::kRevert:
      return "revert";
    case E::kFrozen:
      return "frozen";
    case E::kAbortGraceExpired:
      return "abort_grace_expired";
    case E::kBootTimeout:
      return "boot_timeout";
    case E::kReaped:
      return "reaped";
  }
  return "?";
}

const LifecycleTransition* FindTransition(LifecycleState state,
                                          LifecycleEvent event) {
  for (const LifecycleTransition& row : kTable)
    if (row.from == state && row.event == event) return &row;
  return nullptr;
}

std::span<const LifecycleTransition> LifecycleTable() { return kTable; }

}  // namespace wsgid
