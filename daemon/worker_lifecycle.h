// The lifecycle of one worker as an explicit state machine: its states, the
// events that move it, and the transition table that is the only place a
// worker changes state.
//
// WorkerPool (daemon/worker_pool.h) owns the workers and fires the events; a
// row of the table gives the next state and what to do (a signal to send,
// whether the event's exit reason replaces the worker's). An event without a
// row for the current state is a mistake in the caller: the pool logs it as an
// error and leaves the worker as it was. Pure data and lookups: thread-safe.
//
// The main paths (the full table is in worker_lifecycle.cc):
//   starting --ready line--> ready --recycle--> recycling --drain--> draining
//   ready --frozen--> aborting --abort grace expired--> killed
//   starting --boot timeout--> killed
//   ready, starting --drain (scale-down, reload), stop, kill--> draining
//   every live state --reaped--> exited (the pool then forgets the worker)
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "common/worker_state.h"

namespace wsgid {

// Why a worker left the pool: the label of wsgid_worker_exits_total. Data the
// worker carries from the moment its leaving is decided, not a state.
enum class ExitReason {
  kExit,              // asked to stop (stop, kill, restart), or exit code 0
  kCrash,             // died by itself after it was ready
  kHeartbeatTimeout,  // frozen: no heartbeat, or every thread stuck
  kRequestTimeout,    // one request ran past --request-timeout
  kMaxRequests,       // recycled after --max-requests
  kScaleDown,         // drained because fewer workers are wanted
  kReload,            // drained because a newer generation replaced it
  kBootFailure,       // died or timed out before it was ready
  kMaxWorkerMemory,   // recycled above --max-worker-memory
};

// The labels, in ExitReason order.
inline constexpr const char* kExitReasonNames[] = {"exit",
                                                   "crash",
                                                   "heartbeat_timeout",
                                                   "request_timeout",
                                                   "max_requests",
                                                   "scale_down",
                                                   "reload",
                                                   "boot_failure",
                                                   "max_worker_memory"};

constexpr const char* ExitReasonName(ExitReason reason) {
  return kExitReasonNames[static_cast<size_t>(reason)];
}

// The states a worker truly has. WorkerState (what the API shows) is coarser:
// see StateInfo().public_state.
enum class LifecycleState {
  // Spawned, importing the app.
  kStarting,
  // Restarted before it was ready: a replacement is started, and it is
  // stopped first of those leaving.
  kRecyclingStarting,
  // Serving.
  kReady,
  // Serving, marked to be replaced (--max-requests, --max-worker-memory,
  // restart): drained once its replacement is ready.
  kRecycling,
  // Told to leave (TERM, the stop signal, or a SIGKILL from the operator or a
  // reverted reload): its exit is expected.
  kDraining,
  // Frozen: SIGABRT sent (its stacks are dumped), SIGKILL after the grace.
  kAborting,
  // SIGKILL sent by the timeout ladder (after the abort grace, or at once past
  // the boot timeout), or by the operator during the grace.
  kKilled,
  // Reaped: the pool forgets it.
  kExited,
};

inline constexpr LifecycleState kLifecycleStates[] = {
    LifecycleState::kStarting, LifecycleState::kRecyclingStarting,
    LifecycleState::kReady,    LifecycleState::kRecycling,
    LifecycleState::kDraining, LifecycleState::kAborting,
    LifecycleState::kKilled,   LifecycleState::kExited};

enum class LifecycleEvent {
  kReadyLine,          // the worker wrote its ready line
  kRecycle,            // replace it once a replacement is ready (max-requests,
                       // max-worker-memory, restart); carries the reason
  kDrain,              // leave now (scale-down, or replaced in a reload or
                       // recycling); carries the reason
  kStop,               // the daemon stops; carries the signal
  kKill,               // the operator kills it (SIGKILL)
  kRevert,             // its generation's code does not import: SIGKILL
  kFrozen,             // the timeout ladder judged it frozen; carries the
                       // reason (heartbeat or request timeout)
  kAbortGraceExpired,  // the abort grace after SIGABRT is over
  kBootTimeout,        // not ready within the boot timeout
  kReaped,             // waitpid returned it
};

inline constexpr LifecycleEvent kLifecycleEvents[] = {
    LifecycleEvent::kReadyLine,   LifecycleEvent::kRecycle,
    LifecycleEvent::kDrain,       LifecycleEvent::kStop,
    LifecycleEvent::kKill,        LifecycleEvent::kRevert,
    LifecycleEvent::kFrozen,      LifecycleEvent::kAbortGraceExpired,
    LifecycleEvent::kBootTimeout, LifecycleEvent::kReaped};

// What a transition does besides changing the state.
enum class LifecycleSignal {
  kNone,
  kTerm,     // SIGTERM: finish the requests in hand, then exit
  kKill,     // SIGKILL
  kAbort,    // SIGABRT: dump the stacks (faulthandler), then die
  kForward,  // the signal the event carries (stop: TERM, QUIT or KILL)
};
enum class ReasonRule {
  kKeep,  // the worker's exit reason stays (e.g. a recycled worker drained)
  kTake,  // the event's reason replaces it
};

struct LifecycleTransition {
  LifecycleState from;
  LifecycleEvent event;
  LifecycleState to;
  LifecycleSignal signal;
  ReasonRule reason;
};

// How the exit of a worker reaped in a given state is accounted.
enum class ExitAccounting {
  kUnexpected,    // it was serving or starting: a crash, a boot failure or
                  // a failed reload, respawned with crash-loop back-off
  kExpected,      // it was told to leave: counted under its reason
  kAfterTimeout,  // the timeout ladder killed it: counted under its reason,
                  // already replaced, never a crash loop
  kNone,          // kExited: already accounted
};

// The properties each state has, whatever the event.
struct LifecycleStateInfo {
  LifecycleState state;
  std::string_view name;
  WorkerState public_state;  // how the API and the metrics see it
  bool serving;       // counted as capacity: starting, ready or recycling
  bool before_ready;  // has not written its ready line
  bool marked_for_replacement;  // a replacement is started, then it drains
  ExitAccounting on_exit;
};

const LifecycleStateInfo& StateInfo(LifecycleState state);
std::string_view LifecycleEventName(LifecycleEvent event);

// The row for `event` in `state`, or nullptr when there is none (the event
// makes no sense there and must be ignored).
const LifecycleTransition* FindTransition(LifecycleState state,
                                          LifecycleEvent event);

// Every row, for the tests and the documentation.
std::span<const LifecycleTransition> LifecycleTable();

}  // namespace wsgid
