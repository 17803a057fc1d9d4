// Preloader: the preload zygotes (--preload, issue 16), one per generation,
// each an explicit state machine (daemon/zygote_lifecycle.h). It decides
// where a new worker comes from (forked by its generation's ready zygote,
// waiting while that zygote imports, or spawned without preload when the
// zygote is unsafe or failed), restarts a zygote that dies, and retires a
// zygote once its generation is over (not the pool's current one, and no
// worker of it left). It never touches a worker: the pool supervises every
// worker, forked or not, as before.
//
// The ZygoteControl it is given acts (spawn, signal), so the logic runs in
// unit tests with fake processes and a fake clock. Thread-compatible: the
// supervisor's loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/zygote_lifecycle.h"

namespace wsgid {

// What the preloader needs from the operating system.
class ZygoteControl {
 public:
  virtual ~ZygoteControl() = default;
  // Starts the zygote of `generation` with the running configuration.
  virtual StatusOr<pid_t> StartZygote(int generation) = 0;
  // REQUIRES: `pid` is a zygote not yet reaped.
  virtual void Signal(pid_t pid, int sig) = 0;
};

// How the API and the metrics see a zygote.
struct ZygoteView {
  pid_t pid = 0;  // 0 once it is gone (unsafe, failed)
  int generation = 0;
  std::string_view state;
};

class Preloader {
 public:
  // Deaths before ready in a row after which a generation gives up on
  // preload.
  static constexpr int kCrashLoopLimit = 3;
  enum class Report { kReady, kUnsafe };

  Preloader(ZygoteControl* control, int64_t boot_timeout_ns);

  // Where a new worker of `generation` comes from now; asked first for a
  // generation, it starts that generation's zygote (kWait). Logs, once per
  // zygote start, that spawns wait, and once per zygote that they go
  // without preload.
  SpawnRoute Route(int generation, int64_t now_ns);
  // The ready zygote of `generation`, or 0.
  pid_t ReadyZygote(int generation) const;

  // What zygote `pid` reported on its channel.
  void OnReport(pid_t pid, Report report, int64_t now_ns);
  // A fork request to zygote `pid` failed: it is killed, then restarted.
  void OnForkFailed(pid_t pid, int64_t now_ns);
  // A reaped child; false when it is not a zygote.
  bool OnExit(pid_t pid, int wait_status, int64_t now_ns);
  // Boot timeouts, and retires the zygotes of generations that are over.
  void Tick(int64_t now_ns, int current_generation,
            const std::set<int>& generations_with_workers);
  // The master stops: every zygote is sent `sig` and none is restarted.
  void StopAll(int sig);

  // The newest generation's zygote, if any.
  std::optional<ZygoteView> Newest() const;
  std::vector<ZygoteView> All() const;

 private:
  struct Zygote {
    int generation = 0;
    pid_t pid = 0;  // 0 when not running
    ZygoteState state = ZygoteState::kStarting;
    int64_t started_ns = 0;
    int failures = 0;  // deaths before ready in a row
    bool wait_logged = false;
    bool plain_logged = false;
  };
  void Fire(Zygote* z, ZygoteEvent event, int64_t now_ns);
  void StartProcess(Zygote* z, int64_t now_ns);
  Zygote* FindByPid(pid_t pid);
  static ZygoteView View(const Zygote& z);

  ZygoteControl* control_;
  int64_t boot_timeout_ns_;
  bool stopping_ = false;
  std::map<int, Zygote> zygotes_;  // by generation
};

}  // namespace wsgid
