// The lifecycle of one preload zygote (issue 16) as an explicit state
// machine: its states, the events that move it, and the transition table that
// alone changes a zygote's state and says what to do.
//
// Preloader (daemon/preloader.h) owns the zygotes and fires the events. An
// event without a row for the current state is ignored (logged by the
// caller). Pure data and lookups: thread-safe.
//
//   starting --ready line--> ready --its generation is over--> stopping
//   starting --unsafe line (threads at import)--> unsafe   (workers spawned
//   starting --import failed--> failed                      without preload)
//   starting, ready --died--> starting (restarted)
//   starting --crash loop--> failed
//   stopping --died--> exited
#pragma once

#include <span>
#include <string_view>

namespace wsgid {

enum class ZygoteState {
  kStarting,  // spawned, importing the app: its generation's spawns wait
  kReady,     // imported and forking on request
  kUnsafe,    // the import left threads running: spawns go without preload
  kFailed,    // could not import, or crash-looped: spawns go without preload
  kStopping,  // its generation is over: told to exit
  kExited,    // gone and not to be restarted: the preloader forgets it
};

enum class ZygoteEvent {
  kReadyLine,     // it reported "ready"
  kUnsafeLine,    // it reported threads left by the import (then exits)
  kImportFailed,  // exited before ready with the app-not-importable code
  kDied,          // any other exit (reaped), or a kill after a boot timeout
  kCrashLoop,     // died before ready too many times in a row
  kBootTimeout,   // not ready within the boot timeout
  kForkFailed,    // a fork request got no pid: it is no use any more
  kRetire,        // its generation has no worker left and is not current
};

// What a transition does besides changing the state.
enum class ZygoteAction {
  kNone,
  kRestart,  // spawn a new zygote for the same generation
  kTerm,     // SIGTERM
  kKill,     // SIGKILL (its exit comes back as kDied)
};

// Where a new worker of the zygote's generation comes from.
enum class SpawnRoute {
  kFork,   // forked by the ready zygote
  kWait,   // the zygote is importing: wait for it
  kPlain,  // spawned like a worker without preload
};

struct ZygoteTransition {
  ZygoteState from;
  ZygoteEvent event;
  ZygoteState to;
  ZygoteAction action;
};

struct ZygoteStateInfo {
  ZygoteState state;
  std::string_view name;  // as /v1/status and the metrics show it
  SpawnRoute route;
};

const ZygoteStateInfo& ZygoteInfo(ZygoteState state);
std::string_view ZygoteEventName(ZygoteEvent event);
// The row for `event` in `state`, or nullptr.
const ZygoteTransition* FindZygoteTransition(ZygoteState state,
                                             ZygoteEvent event);
// Every state and every row, for the tests and the metrics.
std::span<const ZygoteStateInfo> ZygoteStates();
std::span<const ZygoteTransition> ZygoteTable();

}  // namespace wsgid
