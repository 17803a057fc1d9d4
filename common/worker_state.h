// WorkerState: the state of a worker as the rest of the system sees it (the
// control API, the metrics, the ops port, wsgictl), from its spawn to its
// exit. The pool's own state machine (daemon/worker_lifecycle.h) has finer
// states; each maps to one of these. An enum end to end: the text form exists
// only on the wire (JSON, metric labels).
#pragma once

#include <optional>
#include <string_view>

namespace wsgid {

enum class WorkerState {
  kStarting,  // spawned, importing the app; not yet ready
  kReady,     // serving
  kDraining,  // leaving: finishing what it has, or being killed
};

inline constexpr WorkerState kWorkerStates[] = {
    WorkerState::kStarting, WorkerState::kReady, WorkerState::kDraining};

// "starting", "ready", "draining".
constexpr std::string_view WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kDraining:
      return "draining";
  }
  return "draining";
}

// The state named `name`, if any.
inline std::optional<WorkerState> ParseWorkerState(std::string_view name) {
  for (WorkerState s : kWorkerStates)
    if (WorkerStateName(s) == name) return s;
  return std::nullopt;
}

}  // namespace wsgid
