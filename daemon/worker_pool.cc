#include "daemon/worker_pool.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace wsgid {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
// A worker that dies sooner than this after starting counts towards a crash
// loop.
constexpr int64_t kCrashWindowNs = 2 * kNsPerSec;
constexpr int64_t kMaxBackoffNs = 30 * kNsPerSec;

std::string DescribeExit(int status) {
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("signal ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

PoolOptions PoolOptions::FromConfig(const Config& config) {
  PoolOptions o;
  o.workers = config.workers;
  o.max_ids = 2 * config.max_workers;  // the largest pool plus as many draining
  o.timeouts.timeout_ns = static_cast<int64_t>(config.timeout * 1e9);
  o.timeouts.request_timeout_ns =
      static_cast<int64_t>(config.request_timeout * 1e9);
  o.abort_grace_ns = static_cast<int64_t>(config.abort_grace * 1e9);
  o.max_requests = config.max_requests;
  o.max_requests_jitter = config.max_requests_jitter;
  o.max_worker_memory = config.max_worker_memory;
  return o;
}

WorkerState WorkerPool::Worker::public_state() const {
  switch (state) {
    case State::kStarting:
      return WorkerState::kStarting;
    case State::kReady:
      return WorkerState::kReady;
    case State::kDraining:
      return WorkerState::kDraining;
  }
  return WorkerState::kDraining;
}

WorkerPool::WorkerPool(ProcessControl* control, PoolOptions options)
    : control_(control), options_(options), desired_(options.workers) {
  for (const char* reason : kExitReasons) exits_[reason] = 0;
}

void WorkerPool::Start(int64_t now_ns) {
  for (int i = 0; i < desired_; ++i) SpawnOne(now_ns);
}

int WorkerPool::NextId() const {
  // The smallest id not in use: ids are stable scoreboard slots, reused after a
  // worker leaves.
  for (int id = 1;; ++id) {
    bool used = false;
    for (const auto& [pid, w] : workers_) used |= w.id == id;
    if (!used) return id;
  }
}

void WorkerPool::SpawnOne(int64_t now_ns) {
  int id = NextId();
  if (id > options_.max_ids) {
    Log(LogLevel::kError)
        << "no free scoreboard slot; not starting another worker";
    return;
  }
  auto pid = control_->Spawn(id);
  if (!pid.ok()) {
    Log(LogLevel::kError) << pid.status().message();
    ++consecutive_failures_;
    next_spawn_ns_ = now_ns + kNsPerSec;
    return;
  }
  Worker w;
  w.id = id;
  w.pid = *pid;
  w.generation = generation_;
  w.started_ns = now_ns;
  if (options_.max_requests > 0) {
    // Jitter spreads the recycling so the workers do not all restart at once.
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    uint64_t span = static_cast<uint64_t>(options_.max_requests_jitter) + 1;
    w.request_limit =
        static_cast<uint64_t>(options_.max_requests) + jitter_state_ % span;
  }
  workers_.emplace(w.pid, w);
  ++spawns_;
}

void WorkerPool::OnReady(pid_t pid, int64_t) {
  auto it = workers_.find(pid);
  if (it == workers_.end() || it->second.state != State::kStarting) return;
  it->second.state = State::kReady;
  if (it->second.generation > confirmed_generation_) {
    // The first worker of a new generation is up: that reload worked.
    if (confirmed_generation_ != 0) ++reloads_ok_;
    confirmed_generation_ = it->second.generation;
  }
  Log(LogLevel::kInfo) << "worker " << it->second.id << " (pid " << pid
                       << ") ready";
}

void WorkerPool::OnExit(pid_t pid, int status, int64_t now_ns) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  Worker w = it->second;
  workers_.erase(it);
  if (w.abort_sent_ns != 0) {
    // Killed by the timeout ladder: replaced at once, not a crash loop.
    Log(LogLevel::kError) << "worker " << w.id << " (pid " << pid
                          << ") killed after a timeout: "
                          << DescribeExit(status);
    CountExit(w.leave_reason);
    return;
  }
  bool expected = w.state == State::kDraining;
  if (expected) {
    // The reason names why it was drained, as counted in exits().
    std::string reason = w.leave_reason.empty() ? "exit" : w.leave_reason;
    Log(LogLevel::kInfo) << "worker " << w.id << " (pid " << pid << ") exited ("
                         << reason << "): " << DescribeExit(status);
    CountExit(reason);
    return;
  }
  Log(LogLevel::kError) << "worker " << w.id << " (pid " << pid
                        << ") exited: " << DescribeExit(status);
  bool before_ready = w.state == State::kStarting;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  CountExit(before_ready ? "boot_failure" : code == 0 ? "exit" : "crash");
  if (booting_ && before_ready) {
    boot_failure_code_ = code == 0 ? 1 : code;
    return;
  }
  bool old_generation_serving = false;
  for (const auto& [other_pid, other] : workers_)
    old_generation_serving |= other.generation < generation_ && Serving(other);
  if (before_ready && w.generation == generation_ && old_generation_serving &&
      code == kAppLoadError) {
    // A reload whose code does not import: the running generation keeps
    // serving.
    Log(LogLevel::kError)
        << "reload failed: the new application could not be loaded; "
           "the previous generation keeps serving";
    --generation_;
    ++reloads_failed_;
    for (auto& [other_pid, other] : workers_) {
      if (other.generation > generation_) {
        control_->Signal(other_pid, SIGKILL);
        other.state = State::kDraining;
      }
    }
    return;
  }
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
  if (consecutive_failures_ > 0) {
    // Exponential back-off: a crash loop must not become a fork storm.
    int64_t delay = std::min<int64_t>(
        kMaxBackoffNs, (kNsPerSec / 10) << std::min(consecutive_failures_, 10));
    next_spawn_ns_ = now_ns + delay;
    Log(LogLevel::kWarning) << "worker crash loop (" << consecutive_failures_
                            << " in a row): next start in "
                            << static_cast<double>(delay) / kNsPerSec << " s";
  }
}

void WorkerPool::Tick(int64_t now_ns) {
  CheckTimeouts(now_ns);
  CheckRecycling();
  Adjust(now_ns);
}

void WorkerPool::CheckTimeouts(int64_t now_ns) {
  for (auto& [pid, w] : workers_) {
    if (w.abort_sent_ns != 0) {
      if (!w.kill_sent && now_ns - w.abort_sent_ns >= options_.abort_grace_ns) {
        control_->Signal(pid, SIGKILL);
        w.kill_sent = true;
      }
      continue;
    }
    if (w.state == State::kStarting) {
      if (now_ns - w.started_ns > options_.boot_timeout_ns) {
        Log(LogLevel::kError)
            << "worker " << w.id << " did not boot in time; killing it";
        control_->Signal(pid, SIGKILL);
        w.abort_sent_ns = now_ns;
        w.kill_sent = true;
        w.leave_reason = "boot_failure";
      }
      continue;
    }
    FreezeVerdict verdict =
        JudgeWorker(control_->Observe(w.id), now_ns, options_.timeouts);
    if (!verdict.frozen()) continue;
    Log(LogLevel::kCritical) << "WORKER TIMEOUT: worker " << w.id << " (pid "
                             << pid << ") is frozen: " << verdict.detail
                             << "; dumping its stacks (SIGABRT), then SIGKILL";
    control_->Signal(pid, SIGABRT);
    w.abort_sent_ns = now_ns;
    w.leave_reason = verdict.kind == FreezeVerdict::Kind::kRequestTimeout
                         ? "request_timeout"
                         : "heartbeat_timeout";
  }
}

void WorkerPool::CheckRecycling() {
  for (auto& [pid, w] : workers_) {
    if (w.recycle || w.state != State::kReady || w.abort_sent_ns != 0) continue;
    if (w.request_limit != 0) {
      uint64_t served = control_->RequestsServed(w.id);
      if (served >= w.request_limit) {
        Log(LogLevel::kInfo)
            << "worker " << w.id << " (pid " << pid << ") served " << served
            << " requests (--max-requests): replacing it";
        w.recycle = true;
        w.leave_reason = "max_requests";
        continue;
      }
    }
    if (options_.max_worker_memory <= 0) continue;
    int64_t rss = control_->ResidentMemory(pid);
    if (rss <= options_.max_worker_memory) continue;
    if (control_->RequestsServed(w.id) == 0) {
      // Its memory is the app's own after import: a replacement would be as
      // big, and recycling would become a fork loop. Said once, then left be.
      if (!w.memory_warned)
        Log(LogLevel::kWarning)
            << "worker " << w.id << " (pid " << pid << ") uses " << rss
            << " bytes before serving a request, above --max-worker-memory "
            << options_.max_worker_memory << "; not replacing it";
      w.memory_warned = true;
      continue;
    }
    Log(LogLevel::kWarning)
        << "worker " << w.id << " (pid " << pid << ") resident memory " << rss
        << " bytes is above --max-worker-memory " << options_.max_worker_memory
        << ": replacing it (max_worker_memory)";
    w.recycle = true;
    w.leave_reason = "max_worker_memory";
  }
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

void WorkerPool::Drain(Worker* w, const char* reason) {
  w->state = State::kDraining;
  if (w->leave_reason.empty())
    w->leave_reason = reason;  // a restart set it already
  control_->Signal(w->pid, SIGTERM);
}

bool WorkerPool::Restart(int id) {
  for (auto& [pid, w] : workers_) {
    if (w.id == id && Serving(w)) {
      w.recycle = true;  // Adjust starts its replacement and drains it once
                         // that is ready
      w.leave_reason = "exit";
      return true;
    }
  }
  return false;
}

bool WorkerPool::Kill(int id) {
  for (auto& [pid, w] : workers_) {
    if (w.id == id && w.state != State::kDraining) {
      control_->Signal(pid, SIGKILL);
      w.state = State::kDraining;
      w.leave_reason = "exit";
      return true;
    }
  }
  return false;
}

void WorkerPool::Adjust(int64_t now_ns) {
  int live = LiveCurrentWorkers();
  if (live < desired_ && now_ns >= next_spawn_ns_) {
    for (int i = live; i < desired_; ++i) SpawnOne(now_ns);
  }
  // Too many: drain the newest surplus workers.
  while (LiveCurrentWorkers() > desired_) {
    Worker* victim = nullptr;
    for (auto& [pid, w] : workers_)
      if (!Retiring(w) && Serving(w) &&
          (victim == nullptr || w.started_ns > victim->started_ns))
        victim = &w;
    Drain(victim, "scale_down");
  }
  // Rolling replacement (reload, recycling): each ready replacement
  // retires one leaving worker, so capacity never dips below the desired count.
  int ready = 0;
  int retiring = 0;
  for (const auto& [pid, w] : workers_) {
    ready += !Retiring(w) && Serving(w) && w.state == State::kReady;
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
          (w.state == State::kStarting) == starting_pass) {
        // A recycled worker's reason (max_requests, max_worker_memory, exit
        // for a restart) was set when it was marked; Drain keeps it.
        Drain(&w, "reload");
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
  for (auto& [pid, w] : workers_) {
    control_->Signal(pid, sig);
    w.state = State::kDraining;
    if (w.leave_reason.empty()) w.leave_reason = "exit";
  }
}

}  // namespace wsgid
