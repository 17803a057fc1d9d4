#include "daemon/zygote_lifecycle.h"

namespace wsgid {
namespace {

using S = ZygoteState;
using E = ZygoteEvent;
using A = ZygoteAction;

constexpr ZygoteStateInfo kStates[] = {
    {S::kStarting, "starting", SpawnRoute::kWait},
    {S::kReady, "ready", SpawnRoute::kFork},
    {S::kUnsafe, "unsafe", SpawnRoute::kPlain},
    {S::kFailed, "failed", SpawnRoute::kPlain},
    {S::kStopping, "stopping", SpawnRoute::kPlain},
    {S::kExited, "exited", SpawnRoute::kPlain},
};

constexpr ZygoteTransition kTable[] = {
    // Starting: importing the app.
    {S::kStarting, E::kReadyLine, S::kReady, A::kNone},
    {S::kStarting, E::kUnsafeLine, S::kUnsafe, A::kNone},
    {S::kStarting, E::kImportFailed, S::kFailed, A::kNone},
    {S::kStarting, E::kDied, S::kStarting, A::kRestart},
    {S::kStarting, E::kCrashLoop, S::kFailed, A::kNone},
    {S::kStarting, E::kBootTimeout, S::kStarting, A::kKill},
    {S::kStarting, E::kRetire, S::kStopping, A::kKill},
    // Ready: forking. Its workers are the master's children and outlive it.
    {S::kReady, E::kDied, S::kStarting, A::kRestart},
    {S::kReady, E::kImportFailed, S::kStarting, A::kRestart},
    {S::kReady, E::kForkFailed, S::kReady, A::kKill},
    {S::kReady, E::kRetire, S::kStopping, A::kTerm},
    // Unsafe: it exits by itself after reporting.
    {S::kUnsafe, E::kDied, S::kUnsafe, A::kNone},
    {S::kUnsafe, E::kImportFailed, S::kUnsafe, A::kNone},
    {S::kUnsafe, E::kRetire, S::kExited, A::kNone},
    // Failed: already gone.
    {S::kFailed, E::kDied, S::kFailed, A::kNone},
    {S::kFailed, E::kRetire, S::kExited, A::kNone},
    // Stopping: told to exit.
    {S::kStopping, E::kDied, S::kExited, A::kNone},
    {S::kStopping, E::kImportFailed, S::kExited, A::kNone},
};

constexpr std::string_view kEventNames[] = {
    "ready line", "unsafe line",  "import failed", "died",
    "crash loop", "boot timeout", "fork failed",   "retire"};

}  // namespace

const ZygoteStateInfo& ZygoteInfo(ZygoteState state) {
  return kStates[static_cast<int>(state)];
}

std::string_view ZygoteEventName(ZygoteEvent event) {
  return kEventNames[static_cast<int>(event)];
}

const ZygoteTransition* FindZygoteTransition(ZygoteState state,
                                             ZygoteEvent event) {
  for (const ZygoteTransition& row : kTable)
    if (row.from == state && row.event == event) return &row;
  return nullptr;
}

std::span<const ZygoteStateInfo> ZygoteStates() { return kStates; }
std::span<const ZygoteTransition> ZygoteTable() { return kTable; }

}  // namespace wsgid
