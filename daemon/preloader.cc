#include "daemon/preloader.h"

#include <signal.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/status_codes.h"

namespace wsgid {
namespace {

constexpr int kAppLoadExit = StatusCodeInfo(StatusCode::kAppLoad).worker_exit;

}  // namespace

Preloader::Preloader(ZygoteControl* control, int64_t boot_timeout_ns)
    : control_(control), boot_timeout_ns_(boot_timeout_ns) {}

void Preloader::StartProcess(Zygote* z, int64_t now_ns) {
  z->started_ns = now_ns;
  z->wait_logged = false;
  z->pid = 0;
  if (stopping_) return;
  auto pid = control_->StartZygote(z->generation);
  if (!pid.ok()) {
    Log(LogLevel::kError) << "preload: cannot start the zygote of generation "
                          << z->generation << ": " << pid.status().message();
    z->state = ZygoteState::kFailed;
    return;
  }
  z->pid = *pid;
  Log(LogLevel::kInfo) << "preload: zygote of generation " << z->generation
                       << " (pid " << z->pid << ") importing the app";
}

void Preloader::Fire(Zygote* z, ZygoteEvent event, int64_t now_ns) {
  const ZygoteTransition* row = FindZygoteTransition(z->state, event);
  if (row == nullptr) {
    Log(LogLevel::kDebug) << "preload: zygote of generation " << z->generation
                          << ": " << ZygoteEventName(event) << " ignored in "
                          << ZygoteInfo(z->state).name;
    return;
  }
  z->state = row->to;
  switch (row->action) {
    case ZygoteAction::kNone:
      break;
    case ZygoteAction::kRestart:
      StartProcess(z, now_ns);
      break;
    case ZygoteAction::kTerm:
      if (z->pid > 0) control_->Signal(z->pid, SIGTERM);
      break;
    case ZygoteAction::kKill:
      if (z->pid > 0) control_->Signal(z->pid, SIGKILL);
      break;
  }
}

SpawnRoute Preloader::Route(int generation, int64_t now_ns) {
  auto [it, added] = zygotes_.try_emplace(generation);
  Zygote& z = it->second;
  if (added) {
    z.generation = generation;
    StartProcess(&z, now_ns);
  }
  SpawnRoute route = ZygoteInfo(z.state).route;
  if (route == SpawnRoute::kWait && !z.wait_logged) {
    z.wait_logged = true;
    Log(LogLevel::kInfo) << "preload: new workers of generation " << generation
                         << " wait for its zygote (pid " << z.pid
                         << ") to import the app";
  }
  if (route == SpawnRoute::kPlain && !z.plain_logged) {
    z.plain_logged = true;
    Log(LogLevel::kWarning)
        << "preload: workers of generation " << generation
        << " start without preload (zygote " << ZygoteInfo(z.state).name << ")";
  }
  return route;
}

pid_t Preloader::ReadyZygote(int generation) const {
  auto it = zygotes_.find(generation);
  if (it == zygotes_.end() || it->second.state != ZygoteState::kReady) return 0;
  return it->second.pid;
}

Preloader::Zygote* Preloader::FindByPid(pid_t pid) {
  if (pid <= 0) return nullptr;
  for (auto& [generation, z] : zygotes_)
    if (z.pid == pid) return &z;
  return nullptr;
}

void Preloader::OnReport(pid_t pid, Report report, int64_t now_ns) {
  Zygote* z = FindByPid(pid);
  if (z == nullptr) return;
  if (report == Report::kReady) {
    z->failures = 0;
    Log(LogLevel::kInfo) << "preload: zygote of generation " << z->generation
                         << " (pid " << pid << ") ready after "
                         << (now_ns - z->started_ns) / 1'000'000 << " ms";
  }
  Fire(z,
       report == Report::kReady ? ZygoteEvent::kReadyLine
                                : ZygoteEvent::kUnsafeLine,
       now_ns);
}

void Preloader::OnForkFailed(pid_t pid, int64_t now_ns) {
  if (Zygote* z = FindByPid(pid)) Fire(z, ZygoteEvent::kForkFailed, now_ns);
}

bool Preloader::OnExit(pid_t pid, int wait_status, int64_t now_ns) {
  Zygote* z = FindByPid(pid);
  if (z == nullptr) return false;
  z->pid = 0;  // reaped: never signalled again
  bool import_failed =
      WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == kAppLoadExit;
  if (z->state == ZygoteState::kStarting && !import_failed) ++z->failures;
  if (z->state == ZygoteState::kStopping)
    Log(LogLevel::kInfo) << "preload: zygote of generation " << z->generation
                         << " (pid " << pid
                         << ") exited: its generation is over";
  else if (z->state != ZygoteState::kUnsafe)
    Log(import_failed ? LogLevel::kError : LogLevel::kWarning)
        << "preload: zygote of generation " << z->generation << " (pid " << pid
        << ") "
        << (import_failed ? "could not import the app"
                          : "died; its workers keep serving");
  if (stopping_) {
    z->state = ZygoteState::kExited;
    return true;
  }
  ZygoteEvent event = import_failed ? ZygoteEvent::kImportFailed
                      : z->failures >= kCrashLoopLimit ? ZygoteEvent::kCrashLoop
                                                       : ZygoteEvent::kDied;
  Fire(z, event, now_ns);
  return true;
}

void Preloader::Tick(int64_t now_ns, int current_generation,
                     const std::set<int>& generations_with_workers) {
  for (auto& [generation, z] : zygotes_) {
    if (z.state == ZygoteState::kStarting && z.pid > 0 &&
        now_ns - z.started_ns > boot_timeout_ns_) {
      Log(LogLevel::kError) << "preload: zygote of generation " << generation
                            << " did not import the app in time; killing it";
      z.started_ns = now_ns;  // one kill per timeout
      Fire(&z, ZygoteEvent::kBootTimeout, now_ns);
    }
    if (generation != current_generation &&
        generations_with_workers.count(generation) == 0)
      Fire(&z, ZygoteEvent::kRetire, now_ns);
  }
  std::erase_if(zygotes_, [](const auto& entry) {
    return entry.second.state == ZygoteState::kExited ||
           (entry.second.state == ZygoteState::kStopping &&
            entry.second.pid == 0);
  });
}

void Preloader::StopAll(int sig) {
  stopping_ = true;
  for (auto& [generation, z] : zygotes_)
    if (z.pid > 0) control_->Signal(z.pid, sig);
}

ZygoteView Preloader::View(const Zygote& z) {
  return {z.pid, z.generation, ZygoteInfo(z.state).name};
}

std::optional<ZygoteView> Preloader::Newest() const {
  if (zygotes_.empty()) return std::nullopt;
  return View(zygotes_.rbegin()->second);
}

std::vector<ZygoteView> Preloader::All() const {
  std::vector<ZygoteView> views;
  for (const auto& [generation, z] : zygotes_) views.push_back(View(z));
  return views;
}

}  // namespace wsgid
