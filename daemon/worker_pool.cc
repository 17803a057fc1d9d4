#include "daemon/worker_pool.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/wait_status.h"

namespace wsgid {
namespace {

// A worker that dies sooner than this after starting counts towards a crash
// loop.
constexpr int64_t kCrashWindowNs = 2 * kNsPerSec;
constexpr int64_t kMaxBackoffNs = 30 * kNsPerSec;

}  // namespace

PoolOptions PoolOptions::FromConfig(const Config& config) {
  PoolOptions o;
  o.workers = config.workers;
  o.max_ids = 2 * config.max_workers;  // the largest pool plus as many draining
  o.timeouts.timeout_ns = SecondsToNs(config.timeout);
  o.timeouts.request_timeout_ns = SecondsToNs(config.request_timeout);
  o.abort_grace_ns = SecondsToNs(config.abort_grace);
  o.max_requests = config.max_requests;
  o.max_requests_jitter = config.max_requests_jitter;
  o.max_worker_memory = config.max_worker_memory;
  return o;
}

WorkerPool::WorkerPool(ProcessControl* control, PoolOptions options)
    : control_(control), options_(options), desired_(options.workers) {
  for (const char* reason : kExitReasons) exits_[reason] = 0;
}

bool WorkerPool::Fire(Worker* w, const Event& event) {
  const LifecycleTransition* row = FindTransition(w->state, event.kind);
  if (row == nullptr) {
    Log(LogLevel::kError) << "worker " << w->id << " (pid " << w->pid
                          << "): no transition for "
                          << LifecycleEventName(event.kind) << " in state "
                          << StateInfo(w->state).name << "; ignored";
    return false;
  }
  switch (row->signal) {
    case LifecycleSignal::kNone:
      break;
    case LifecycleSignal::kTerm:
      control_->Signal(w->pid, SIGTERM);
      break;
    case LifecycleSignal::kKill:
      control_->Signal(w->pid, SIGKILL);
      break;
    case LifecycleSignal::kAbort:
      control_->Signal(w->pid, SIGABRT);
      break;
    case LifecycleSignal::kForward:
      control_->Signal(w->pid, event.signal);
      break;
  }
  if (row->reason == ReasonRule::kTake) w->leave_reason = event.reason;
  w->state = row->to;
  return true;
}

WorkerPool::Worker* WorkerPool::FindById(int id, LifecycleEvent event) {
  for (auto& [pid, w] : workers_)
    if (w.id == id && FindTransition(w.state, event) != nullptr) return &w;
  return nullptr;
}

void WorkerPool::Start(int64_t now_ns) {
  // Those that cannot start yet (a zygote importing) start in a later Tick.
  if (!control_->CanSpawn(generation_)) return;
  SpawnMissing(desired_, now_ns);
}

std::vector<StatusOr<ProcessControl::Started>> ProcessControl::SpawnBatch(
    const std::vector<int>& ids, int generation) {
  std::vector<StatusOr<Started>> results;
  for (int id : ids) {
    auto pid = Spawn(id, generation);
    if (pid.ok())
      results.push_back(Started{*pid, 0});
    else
      results.push_back(pid.status());
  }
  return results;
}

bool WorkerPool::IdInUse(int id) const {
  for (const auto& [pid, w] : workers_)
    if (w.id == id) return true;
  return false;
}

uint64_t WorkerPool::NextRequestLimit() {
  if (options_.max_requests <= 0) return 0;
  // Jitter spreads the recycling so the workers do not all restart at once.
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  uint64_t span = static_cast<uint64_t>(options_.max_requests_jitter) + 1;
  return static_cast<uint64_t>(options_.max_requests) + jitter_state_ % span;
}

void WorkerPool::SpawnMissing(int count, int64_t now_ns) {
  // The smallest free ids: ids are stable scoreboard slots, reused after a
  // worker leaves.
  std::vector<int> ids;
  for (int id = 1; static_cast<int>(ids.size()) < count; ++id) {
    if (id > options_.max_ids) {
      Log(LogLevel::kError)
          << "no free scoreboard slot; not starting another worker";
      break;
    }
    if (!IdInUse(id)) ids.push_back(id);
  }
  if (ids.empty()) return;
  auto started = control_->SpawnBatch(ids, generation_);
  for (size_t i = 0; i < ids.size() && i < started.size(); ++i) {
    if (!started[i].ok()) {
      Log(LogLevel::kError) << started[i].status().message();
      ++consecutive_failures_;
      next_spawn_ns_ = now_ns + kNsPerSec;
      continue;
    }
    Worker w;  // born kStarting
    w.id = ids[i];
    w.pid = started[i]->pid;
    w.generation = generation_;
    // A fork's own start (after this tick began), so that its "ready in"
    // does not count the forks before it in the batch.
    w.started_ns = std::max(started[i]->started_ns, now_ns);
    w.request_limit = NextRequestLimit();
    workers_.emplace(w.pid, w);
    ++spawns_;
  }
}

void WorkerPool::OnReady(pid_t pid, int64_t now_ns) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  Worker& w = it->second;
  bool was_starting = StateInfo(w.state).before_ready;
  // A late line from a worker already told to leave is ignored by the table.
  if (!Fire(&w, {LifecycleEvent::kReadyLine}) || !was_starting) return;
  if (w.generation > confirmed_generation_) {
    // The first worker of a new generation is up: that reload worked.
    if (confirmed_generation_ != 0) ++reloads_ok_;
    confirmed_generation_ = w.generation;
  }
  // How long it took from spawn (or fork) to ready: with --preload, the
  // fork's cost; without, the app's import. `now_ns` is when the worker said
  // it was ready, not when the loop read it.
  Log(LogLevel::kInfo) << "worker " << w.id << " (pid " << pid << ") ready in "
                       << std::max<int64_t>(0, now_ns - w.started_ns) /
                              1'000'000
                       << " ms";
}

void WorkerPool::OnExit(pid_t pid, int status, int64_t now_ns) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  Worker w = it->second;
  workers_.erase(it);
  State reaped_in = w.state;
  Fire(&w, {LifecycleEvent::kReaped});
  switch (StateInfo(reaped_in).on_exit) {
    case ExitAccounting::kAfterTimeout:
      OnExitAfterTimeout(w, status);
      return;
    case ExitAccounting::kExpected:
      OnExpectedExit(w, status);
      return;
    case ExitAccounting::kUnexpected:
      OnUnexpectedExit(w, reaped_in, status, now_ns);
      return;
    case ExitAccounting::kNone:
      return;
  }
}

void WorkerPool::OnExitAfterTimeout(const Worker& w, int status) {
  // Replaced when it froze (or timed out booting): not a crash loop.
  Log(LogLevel::kError) << "worker " << w.id << " (pid " << w.pid
                        << ") killed after a timeout: "
                        << DescribeWaitStatus(status);
  CountExit(w.leave_reason);
}

void WorkerPool::OnExpectedExit(const Worker& w, int status) {
  // The reason names why it was drained, as counted in exits().
  Log(LogLevel::kInfo) << "worker " << w.id << " (pid " << w.pid << ") exited ("
                       << ExitReasonName(w.leave_reason)
                       << "): " << DescribeWaitStatus(status);
  CountExit(w.leave_reason);
}

void WorkerPool::OnUnexpectedExit(const Worker& w, State reaped_in, int status,
                                  int64_t now_ns) {
  Log(LogLevel::kError) << "worker " << w.id << " (pid " << w.pid
                        << ") exited: " << DescribeWaitStatus(status);
  bool before_ready = StateInfo(reaped_in).before_ready;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  CountExit(before_ready ? ExitReason::kBootFailure
            : code == 0  ? ExitReason::kExit
                         : ExitReason::kCrash);
  if (booting_ && before_ready) {
    boot_failure_code_ = code == 0 ? 1 : code;
    return;
  }
  if (before_ready && IsFailedReload(w, code)) {
    RevertReload();
    return;
  }
  NoteCrash(w, before_ready, status, now_ns);
}

bool WorkerPool::IsFailedReload(const Worker& w, int exit_code) const {
  if (w.generation != generation_ || exit_code != kAppLoadError) return false;
  for (const auto& [pid, other] : workers_)
    if (other.generation < generation_ && Serving(other)) return true;
  return false;
}

void WorkerPool::RevertReload() {
  // The running generation keeps serving; the new one is killed.
  Log(LogLevel::kError)
      << "reload failed: the new application could not be loaded; "
         "the previous generation keeps serving";
  --generation_;
  ++reloads_failed_;
  for (auto& [pid, w] : workers_)
    if (w.generation > generation_) Fire(&w, {LifecycleEvent::kRevert});
}

void WorkerPool::NoteCrash(const Worker& w, bool before_ready, int status,
                           int64_t now_ns) {
  // A ready worker SIGKILLed from outside (an operator, the OOM killer) did
  // not crash: it is replaced at once, however young, as Gunicorn does. A
  // crash loop is a worker that cannot boot or dies by itself soon after.
  bool killed_from_outside =
      !before_ready && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!killed_from_outside &&
      (before_ready || now_ns - w.started_ns < kCrashWindowNs)) {
    ++consecutive_failures_;
  } else {
    consecutive_failures_ = 0;
  }
  if (consecutive_failures_ == 0) return;
  // Exponential back-off: a crash loop must not become a fork storm.
  int64_t delay = std::min<int64_t>(
      kMaxBackoffNs, (kNsPerSec / 10) << std::min(consecutive_failures_, 10));
  next_spawn_ns_ = now_ns + delay;
  Log(LogLevel::kWarning) << "worker crash loop (" << consecutive_failures_
                          << " in a row): next start in "
                          << static_cast<double>(delay) / kNsPerSec << " s";
}

void WorkerPool::Tick(int64_t now_ns) {
  CheckTimeouts(now_ns);
  CheckRecycling();
  Adjust(now_ns);
}

void WorkerPool::CheckTimeouts(int64_t now_ns) {
  for (auto& [pid, w] : workers_) {
    switch (w.state) {
      case State::kAborting:
        CheckAbortGrace(&w, now_ns);
        break;
      case State::kStarting:
      case State::kRecyclingStarting:
        // Judged by the boot timeout, not by a heartbeat it has not started.
        CheckBootTimeout(&w, now_ns);
        break;
      case State::kReady:
      case State::kRecycling:
      case State::kDraining:
        CheckFrozen(&w, now_ns);
        break;
      case State::kKilled:
      case State::kExited:
        break;
    }
  }
}

void WorkerPool::CheckAbortGrace(Worker* w, int64_t now_ns) {
  if (now_ns - w->abort_sent_ns >= options_.abort_grace_ns)
    Fire(w, {LifecycleEvent::kAbortGraceExpired});
}

void WorkerPool::CheckBootTimeout(Worker* w, int64_t now_ns) {
  if (now_ns - w->started_ns <= options_.boot_timeout_ns) return;
  Log(LogLevel::kError) << "worker " << w->id
                        << " did not boot in time; killing it";
  Fire(w, {LifecycleEvent::kBootTimeout, ExitReason::kBootFailure});
}

void WorkerPool::CheckFrozen(Worker* w, int64_t now_ns) {
  FreezeVerdict verdict =
      JudgeWorker(control_->Observe(w->id), now_ns, options_.timeouts);
  if (!verdict.frozen()) return;
  Log(LogLevel::kCritical) << "WORKER TIMEOUT: worker " << w->id << " (pid "
                           << w->pid << ") is frozen: " << verdict.detail
                           << "; dumping its stacks (SIGABRT), then SIGKILL";
  ExitReason reason = verdict.kind == FreezeVerdict::Kind::kRequestTimeout
                          ? ExitReason::kRequestTimeout
                          : ExitReason::kHeartbeatTimeout;
  if (Fire(w, {LifecycleEvent::kFrozen, reason})) w->abort_sent_ns = now_ns;
}

void WorkerPool::CheckRecycling() {
  for (auto& [pid, w] : workers_) {
    if (w.state != State::kReady) continue;
    if (std::optional<ExitReason> reason = RecycleReason(&w))
      Fire(&w, {LifecycleEvent::kRecycle, *reason});
  }
}

std::optional<ExitReason> WorkerPool::RecycleReason(Worker* w) {
  if (w->request_limit != 0) {
    uint64_t served = control_->RequestsServed(w->id);
    if (served >= w->request_limit) {
      Log(LogLevel::kInfo) << "worker " << w->id << " (pid " << w->pid
                           << ") served " << served
                           << " requests (--max-requests): replacing it";
      return ExitReason::kMaxRequests;
    }
  }
  if (options_.max_worker_memory <= 0) return std::nullopt;
  int64_t rss = control_->ResidentMemory(w->pid);
  if (rss <= options_.max_worker_memory) return std::nullopt;
  if (control_->RequestsServed(w->id) == 0) {
    // Its memory is the app's own after import: a replacement would be as
    // big, and recycling would become a fork loop. Said once, then left be.
    if (!w->memory_warned)
      Log(LogLevel::kWarning)
          << "worker " << w->id << " (pid " << w->pid << ") uses " << rss
          << " bytes before serving a request, above --max-worker-memory "
          << options_.max_worker_memory << "; not replacing it";
    w->memory_warned = true;
    return std::nullopt;
  }
  Log(LogLevel::kWarning) << "worker " << w->id << " (pid " << w->pid
                          << ") resident memory " << rss
                          << " bytes is above --max-worker-memory "
                          << options_.max_worker_memory
                          << ": replacing it (max_worker_memory)";
  return ExitReason::kMaxWorkerMemory;
}

int WorkerPool::LiveCurrentWorkers() const {
  int n = 0;
  for (const auto& [pid, w] : workers_) n += !Retiring(w) && Serving(w);
  return n;
}

int WorkerPool::CountInState(WorkerState state) const {
  int n = 0;
  for (const auto& [pid, w] : workers_) n += w.public_state() == state;
  return n;
}

int WorkerPool::CountInState(State state) const {
  int n = 0;
  for (const auto& [pid, w] : workers_) n += w.state == state;
  return n;
}

bool WorkerPool::Restart(int id) {
  // Adjust starts its replacement and drains it once that is ready.
  Worker* w = FindById(id, LifecycleEvent::kRecycle);
  return w != nullptr && Fire(w, {LifecycleEvent::kRecycle, ExitReason::kExit});
}

bool WorkerPool::Kill(int id) {
  Worker* w = FindById(id, LifecycleEvent::kKill);
  return w != nullptr && Fire(w, {LifecycleEvent::kKill, ExitReason::kExit});
}

void WorkerPool::Adjust(int64_t now_ns) {
  int live = LiveCurrentWorkers();
  if (live < desired_ && now_ns >= next_spawn_ns_ &&
      control_->CanSpawn(generation_)) {
    SpawnMissing(desired_ - live, now_ns);
  }
  DrainSurplus();
  RetireReplaced();
}

void WorkerPool::DrainSurplus() {
  // Too many: drain the newest surplus workers.
  while (LiveCurrentWorkers() > desired_) {
    Worker* victim = nullptr;
    for (auto& [pid, w] : workers_)
      if (!Retiring(w) && Serving(w) &&
          (victim == nullptr || w.started_ns > victim->started_ns))
        victim = &w;
    if (victim == nullptr ||
        !Fire(victim, {LifecycleEvent::kDrain, ExitReason::kScaleDown}))
      return;
  }
}

void WorkerPool::RetireReplaced() {
  // Rolling replacement (reload, recycling): each ready replacement
  // retires one leaving worker, so capacity never dips below the desired count.
  int ready = 0;
  int retiring = 0;
  for (const auto& [pid, w] : workers_) {
    ready += !Retiring(w) && w.state == State::kReady;
    retiring += Retiring(w) && Serving(w);
  }
  // Those still starting go first: superseded by a newer generation before
  // they were ready (reloads in quick succession), they serve no one, while a
  // ready one drained in their place would leave fewer workers serving than
  // desired until the newest generation is up.
  for (bool starting_pass : {true, false}) {
    for (auto& [pid, w] : workers_) {
      if (retiring == 0 || ready + retiring <= desired_) break;
      if (Retiring(w) && Serving(w) &&
          StateInfo(w.state).before_ready == starting_pass) {
        // A recycled worker keeps the reason it was marked with
        // (max_requests, max_worker_memory, exit for a restart): see the table.
        Fire(&w, {LifecycleEvent::kDrain, ExitReason::kReload});
        --retiring;
      }
    }
  }
}

void WorkerPool::Reload(const PoolOptions& options, int64_t now_ns) {
  int kept = desired_;
  options_ = options;
  if (!desired_changed_at_run_time_) kept = options.workers;
  desired_ = std::min(kept, options_.max_ids / 2);
  ++generation_;
  consecutive_failures_ = 0;
  next_spawn_ns_ = 0;
  Log(LogLevel::kInfo) << "reload: starting generation " << generation_ << " ("
                       << desired_ << " worker(s))";
  Adjust(now_ns);
}

void WorkerPool::SetDesired(int workers) {
  desired_changed_at_run_time_ = true;
  desired_ = std::clamp(workers, 1, options_.max_ids / 2);
  Log(LogLevel::kInfo) << "workers: " << desired_;
}

void WorkerPool::StopAll(int sig) {
  for (auto& [pid, w] : workers_)
    Fire(&w, {LifecycleEvent::kStop, ExitReason::kExit, sig});
}

}  // namespace wsgid
