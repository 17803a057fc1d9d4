// The worker lifecycle state machine: a fake ProcessControl (fake pids,
// recorded spawns and signals, scripted scoreboard slots) and a fake clock the
// test advances. No sleeps, no real processes.
#include "daemon/worker_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "common/log.h"
#include "daemon/config_file.h"

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMs = 1'000'000;

using State = WorkerPool::State;

struct SignalSent {
  pid_t pid;
  int sig;
  bool operator==(const SignalSent& other) const {
    return pid == other.pid && sig == other.sig;
  }
};

void PrintTo(const SignalSent& s, std::ostream* os) {
  *os << "{pid " << s.pid << ", sig " << s.sig << "}";
}

}  // namespace

// gtest finds these by argument-dependent lookup in the enums' namespace.
void PrintTo(LifecycleState s, std::ostream* os) { *os << StateInfo(s).name; }
void PrintTo(ExitReason r, std::ostream* os) { *os << ExitReasonName(r); }

namespace {

int ExitStatus(int code) { return W_EXITCODE(code, 0); }
int KilledStatus(int sig) { return W_EXITCODE(0, sig); }

// Fake pids from a counter; records every Spawn(id) and Signal(pid, sig). A
// slot's observation defaults to a fresh heartbeat and one idle thread; Spawn()
// resets the slot (as the supervisor resets the scoreboard slot before handing
// it to a new worker).
class FakeProcessControl : public ProcessControl {
 public:
  explicit FakeProcessControl(const int64_t* now) : now_(now) {}

  StatusOr<pid_t> Spawn(int id, int) override {
    ++spawn_attempts_;
    if (fail_spawns_) return Status::Unavailable("cannot fork (fake)");
    spawns_.push_back(id);
    observations_.erase(id);
    served_[id] = 0;
    return next_pid_++;
  }
  std::vector<StatusOr<Started>> SpawnBatch(const std::vector<int>& ids,
                                            int generation) override {
    batches_.push_back(ids);
    auto started = ProcessControl::SpawnBatch(ids, generation);
    for (auto& one : started)
      if (one.ok() && fork_delay_ns_ > 0)
        one->started_ns = *now_ + fork_delay_ns_ * (one->pid % 7);
    return started;
  }
  void Signal(pid_t pid, int sig) override { signals_.push_back({pid, sig}); }
  bool CanSpawn(int generation) override {
    asked_generation_ = generation;
    return can_spawn_;
  }
  WorkerObservation Observe(int id) override {
    auto it = observations_.find(id);
    if (it != observations_.end()) return it->second;
    WorkerObservation fresh;
    fresh.heartbeat_ns = *now_;
    fresh.threads.emplace_back();
    return fresh;
  }
  uint64_t RequestsServed(int id) override { return served_[id]; }
  int64_t ResidentMemory(pid_t pid) override {
    ++memory_reads_;
    auto it = resident_.find(pid);
    return it == resident_.end() ? 0 : it->second;
  }

  void SetObservation(int id, WorkerObservation o) {
    observations_[id] = std::move(o);
  }
  void SetServed(int id, uint64_t n) { served_[id] = n; }
  void SetResident(pid_t pid, int64_t bytes) { resident_[pid] = bytes; }
  int memory_reads() const { return memory_reads_; }
  void set_fail_spawns(bool fail) { fail_spawns_ = fail; }
  void set_can_spawn(bool can) { can_spawn_ = can; }
  int asked_generation() const { return asked_generation_; }
  // Each spawn reports its own start, (pid % 7) x `ns` after the tick's.
  void set_fork_delay(int64_t ns) { fork_delay_ns_ = ns; }
  std::vector<std::vector<int>> TakeBatches() {
    return std::exchange(batches_, {});
  }
  int spawn_attempts() const { return spawn_attempts_; }
  pid_t last_pid() const { return next_pid_ - 1; }

  // What happened since the last call (then forgotten).
  std::vector<int> TakeSpawns() { return std::exchange(spawns_, {}); }
  std::vector<SignalSent> TakeSignals() { return std::exchange(signals_, {}); }

 private:
  const int64_t* now_;
  pid_t next_pid_ = 1000;
  bool fail_spawns_ = false;
  bool can_spawn_ = true;
  int64_t fork_delay_ns_ = 0;
  std::vector<std::vector<int>> batches_;
  int asked_generation_ = 0;
  int spawn_attempts_ = 0;
  std::vector<int> spawns_;
  std::vector<SignalSent> signals_;
  std::map<int, WorkerObservation> observations_;
  std::map<int, uint64_t> served_;
  std::map<pid_t, int64_t> resident_;
  int memory_reads_ = 0;
};

PoolOptions Options(int workers) {
  PoolOptions o;
  o.workers = workers;
  o.max_ids = 64;
  o.timeouts.timeout_ns = 30 * kSec;
  o.abort_grace_ns = 1 * kSec;
  o.boot_timeout_ns = 60 * kSec;
  return o;
}

class WorkerPoolTest : public ::testing::Test {
 protected:
  // Starts the pool; with `ready`, every worker becomes ready and boot
  // finishes. The records of the start are consumed.
  void StartPool(const PoolOptions& options, bool ready = true) {
    pool_ = std::make_unique<WorkerPool>(&control_, options);
    pool_->Start(now_);
    if (ready) {
      for (pid_t pid : Pids()) pool_->OnReady(pid, now_);
      pool_->FinishBoot();
    }
    control_.TakeSpawns();
    control_.TakeSignals();
  }

  void Advance(int64_t ns) { now_ += ns; }
  void Tick() { pool_->Tick(now_); }
  void Ready(pid_t pid) { pool_->OnReady(pid, now_); }
  void Exit(pid_t pid, int code) { pool_->OnExit(pid, ExitStatus(code), now_); }

  std::vector<pid_t> Pids() const {
    std::vector<pid_t> pids;
    for (const auto& [pid, w] : pool_->workers()) pids.push_back(pid);
    return pids;
  }
  // The pid of the worker in slot `id` (ids are unique among live workers).
  pid_t PidOf(int id) const {
    for (const auto& [pid, w] : pool_->workers())
      if (w.id == id) return pid;
    ADD_FAILURE() << "no worker with id " << id;
    return -1;
  }
  const WorkerPool::Worker& WorkerOf(int id) const {
    return pool_->workers().at(PidOf(id));
  }
  std::set<int> Ids() const {
    std::set<int> ids;
    for (const auto& [pid, w] : pool_->workers()) ids.insert(w.id);
    return ids;
  }
  void ExpectQuiet() {
    EXPECT_TRUE(control_.TakeSpawns().empty());
    EXPECT_TRUE(control_.TakeSignals().empty());
  }

  int64_t now_ = 1000 * kSec;
  FakeProcessControl control_{&now_};
  std::unique_ptr<WorkerPool> pool_;
};

// --- Start, ready, ids ---

// --preload (issue 16): while a generation's zygote imports the app, its
// workers wait; the next tick after it is ready starts them.
TEST_F(WorkerPoolTest, SpawnsWaitWhileTheControlCannotSpawnYet) {
  control_.set_can_spawn(false);
  pool_ = std::make_unique<WorkerPool>(&control_, Options(2));
  pool_->Start(now_);
  Tick();
  EXPECT_TRUE(control_.TakeSpawns().empty());
  EXPECT_EQ(control_.spawn_attempts(), 0);
  EXPECT_EQ(control_.asked_generation(), 1);
  control_.set_can_spawn(true);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1, 2}));
  for (pid_t pid : Pids()) Ready(pid);
  pool_->Reload(Options(2), now_);
  EXPECT_EQ(control_.asked_generation(), 2);
}

TEST_F(WorkerPoolTest, StartSpawnsWorkersWithIdsOneToN) {
  pool_ = std::make_unique<WorkerPool>(&control_, Options(3));
  pool_->Start(now_);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  EXPECT_EQ(pool_->desired(), 3);
  EXPECT_EQ(pool_->generation(), 1);
  EXPECT_EQ(pool_->CountInState(State::kStarting), 3);
  EXPECT_EQ(pool_->CountInState(State::kReady), 0);
  for (const auto& [pid, w] : pool_->workers()) {
    EXPECT_EQ(w.pid, pid);
    EXPECT_EQ(w.generation, 1);
    EXPECT_EQ(w.started_ns, now_);
  }

  Ready(PidOf(2));
  EXPECT_EQ(pool_->CountInState(State::kStarting), 2);
  EXPECT_EQ(pool_->CountInState(State::kReady), 1);
  EXPECT_EQ(WorkerOf(2).state, State::kReady);
  Ready(PidOf(1));
  Ready(PidOf(3));
  Ready(PidOf(3));  // a repeated ready line changes nothing
  EXPECT_EQ(pool_->CountInState(State::kReady), 3);
  EXPECT_EQ(pool_->CountInState(State::kDraining), 0);
  EXPECT_EQ(pool_->boot_failure_code(), 0);

  pool_->FinishBoot();
  Advance(kSec);
  Tick();
  ExpectQuiet();
}

// --preload (issue 16): the spawns one tick decides go to the control in one
// batch (the zygote forks them back to back), in the smallest free slots.
TEST_F(WorkerPoolTest, ScaleUpAsksForAllMissingWorkersInOneBatch) {
  StartPool(Options(2));
  control_.TakeBatches();
  Advance(10 * kSec);  // past the crash window: no back-off
  Exit(PidOf(1), 1);   // slot 1 is free again
  pool_->SetDesired(5);
  Tick();
  EXPECT_EQ(control_.TakeBatches(),
            (std::vector<std::vector<int>>{{1, 3, 4, 5}}));
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1, 3, 4, 5}));
  EXPECT_EQ(Ids(), (std::set<int>{1, 2, 3, 4, 5}));
  Tick();
  EXPECT_TRUE(control_.TakeBatches().empty());
}

// A worker's start is its own fork's when the control reports one, so that
// "ready in" does not count the forks before it in the batch; never before
// the tick that asked for it.
TEST_F(WorkerPoolTest, WorkerStartIsItsOwnForkWhenReported) {
  StartPool(Options(1));
  control_.set_fork_delay(kSec / 1000);
  pool_->SetDesired(4);
  Tick();
  int later = 0;
  for (const auto& [pid, w] : pool_->workers()) {
    if (w.id == 1) continue;
    EXPECT_EQ(w.started_ns, now_ + (kSec / 1000) * (pid % 7)) << "pid " << pid;
    later += w.started_ns > now_;
  }
  EXPECT_GT(later, 0);
}

// --- Boot failures, respawn, id reuse ---

TEST_F(WorkerPoolTest,
       ExitBeforeReadyWhileBootingIsAppLoadErrorAndNotRespawned) {
  StartPool(Options(2), /*ready=*/false);
  pid_t first = PidOf(1);
  Advance(100 * kMs);
  Exit(first, WorkerPool::kAppLoadError);
  EXPECT_EQ(pool_->boot_failure_code(), WorkerPool::kAppLoadError);
  EXPECT_EQ(pool_->workers().size(), 1u);
  EXPECT_EQ(pool_->workers().count(first), 0u);
  ExpectQuiet();
}

TEST_F(WorkerPoolTest, ExitCodeZeroBeforeReadyWhileBootingIsStillAFailure) {
  StartPool(Options(1), /*ready=*/false);
  Exit(PidOf(1), 0);
  EXPECT_EQ(pool_->boot_failure_code(), 1);
  ExpectQuiet();
}

TEST_F(WorkerPoolTest, ReadyWorkerExitingWhileBootingIsACrashNotABootFailure) {
  StartPool(Options(2), /*ready=*/false);
  Ready(PidOf(1));
  Advance(5 * kSec);
  Exit(PidOf(1), 1);
  EXPECT_EQ(pool_->boot_failure_code(), 0);
  EXPECT_TRUE(control_.TakeSpawns().empty());
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
}

TEST_F(WorkerPoolTest,
       UnexpectedExitAfterBootIsRespawnedAtNextTickWithSmallestFreeId) {
  StartPool(Options(3));
  Advance(10 * kSec);
  pid_t second = PidOf(2);
  Exit(second, 1);
  EXPECT_EQ(pool_->boot_failure_code(), 0);
  EXPECT_TRUE(control_.TakeSpawns().empty());  // not from OnExit itself
  EXPECT_EQ(Ids(), (std::set<int>{1, 3}));

  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  EXPECT_NE(PidOf(2), second);
  EXPECT_EQ(WorkerOf(2).state, State::kStarting);
  EXPECT_EQ(WorkerOf(2).started_ns, now_);
  Tick();
  ExpectQuiet();

  // Two gaps: filled smallest first.
  Ready(PidOf(2));
  Advance(10 * kSec);
  pool_->OnExit(PidOf(3), KilledStatus(SIGSEGV), now_);
  Exit(PidOf(1), 0);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1, 3}));
  EXPECT_EQ(Ids(), (std::set<int>{1, 2, 3}));
}

// --- Crash loop back-off ---

// The delay the pool waits after the n-th consecutive quick crash: 0.1 s << n,
// at most 30 s.
int64_t Backoff(int n) {
  return std::min<int64_t>(30 * kSec, (100 * kMs) << std::min(n, 10));
}

TEST_F(WorkerPoolTest, CrashLoopDelaysNextSpawnExponentially) {
  StartPool(Options(1));
  for (int n = 1; n <= 12; ++n) {
    SCOPED_TRACE(n);
    // Alternate: crashes after becoming ready, and before.
    if (n % 2 == 1) Ready(PidOf(1));
    Advance(500 * kMs);
    Exit(PidOf(1), 1);
    Tick();
    EXPECT_TRUE(control_.TakeSpawns().empty());
    Advance(Backoff(n) - 1);
    Tick();
    EXPECT_TRUE(control_.TakeSpawns().empty()) << "spawned before the back-off";
    Advance(1);
    Tick();
    EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
  }
  EXPECT_EQ(Backoff(12), 30 * kSec);  // the cap was exercised
  EXPECT_TRUE(control_.TakeSignals().empty());
}

TEST_F(WorkerPoolTest, BackoffDelaysOnlyTheSpawnNotTheOtherWorkers) {
  StartPool(Options(2));
  Advance(10 * kSec);
  Exit(PidOf(2), 1);  // lived long: respawned at once
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  Advance(300 * kMs);
  Exit(PidOf(2), 1);  // before ready: one crash
  Tick();
  EXPECT_TRUE(control_.TakeSpawns().empty());
  EXPECT_EQ(pool_->CountInState(State::kReady), 1);
  Advance(Backoff(1));
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
}

// A young ready worker SIGKILLed from outside again and again (the fault test
// kills a random worker every second) is replaced at once each time.
TEST_F(WorkerPoolTest, ReadyWorkerKilledFromOutsideIsReplacedAtOnce) {
  StartPool(Options(1));
  for (int n = 1; n <= 5; ++n) {
    SCOPED_TRACE(n);
    Ready(PidOf(1));
    Advance(300 * kMs);
    pool_->OnExit(PidOf(1), SIGKILL, now_);  // a wait status: killed by 9
    Tick();
    EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
  }
  // Killed before it was ready: that still counts towards a crash loop.
  pool_->OnExit(PidOf(1), SIGKILL, now_);
  Tick();
  EXPECT_TRUE(control_.TakeSpawns().empty());
}

TEST_F(WorkerPoolTest, WorkerOutlivingCrashWindowResetsCrashCount) {
  StartPool(Options(1));
  Advance(10 * kSec);
  Exit(PidOf(1), 1);  // lived long: no back-off
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
  for (int n = 1; n <= 3; ++n) {
    Advance(100 * kMs);
    Exit(PidOf(1), 1);
    Advance(Backoff(n));
    Tick();
    ASSERT_EQ(control_.TakeSpawns(), (std::vector<int>{1})) << n;
  }
  // This one lives longer than the crash window (2 s): the count starts again.
  Ready(PidOf(1));
  Advance(3 * kSec);
  Exit(PidOf(1), 1);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
  // The next quick crash is the first of a new series.
  Ready(PidOf(1));
  Advance(500 * kMs);
  Exit(PidOf(1), 1);
  Advance(Backoff(1) - 1);
  Tick();
  EXPECT_TRUE(control_.TakeSpawns().empty());
  Advance(1);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
}

TEST_F(WorkerPoolTest, SpawnFailureIsRetriedAfterASecond) {
  StartPool(Options(1));
  Advance(10 * kSec);
  Exit(PidOf(1), 1);
  control_.set_fail_spawns(true);
  Tick();
  EXPECT_EQ(control_.spawn_attempts(), 2);
  EXPECT_TRUE(pool_->empty());
  control_.set_fail_spawns(false);
  Advance(kSec - 1);
  Tick();
  EXPECT_EQ(control_.spawn_attempts(), 2);
  Advance(1);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
}

// --- Timeout ladder ---

TEST_F(WorkerPoolTest,
       StaleHeartbeatGetsAbortThenOneKillAfterGraceAndImmediateReplacement) {
  StartPool(Options(2));
  Advance(40 * kSec);
  Tick();
  ExpectQuiet();  // fresh heartbeats

  pid_t frozen = PidOf(1);
  control_.SetObservation(1, {now_ - 30 * kSec, {ThreadActivity()}});
  Tick();
  ExpectQuiet();  // exactly the timeout: not yet stale
  Advance(1);
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{frozen, SIGABRT}}));
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3}));  // capacity: at once
  EXPECT_EQ(pool_->workers().at(frozen).abort_sent_ns, now_);

  Advance(kSec - 1);
  Tick();
  ExpectQuiet();  // within the abort grace: no SIGKILL, no second SIGABRT
  Advance(1);
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{frozen, SIGKILL}}));
  EXPECT_TRUE(control_.TakeSpawns().empty());
  Advance(5 * kSec);
  Tick();
  Tick();
  ExpectQuiet();  // SIGKILL only once

  pool_->OnExit(frozen, KilledStatus(SIGKILL), now_);
  Tick();
  ExpectQuiet();  // already replaced
  EXPECT_EQ(Ids(), (std::set<int>{2, 3}));
}

TEST_F(WorkerPoolTest, AllThreadsBusyPastTimeoutGetsAbort) {
  StartPool(Options(2));
  Advance(100 * kSec);
  ThreadActivity busy;
  busy.busy = true;
  busy.request_start_ns = now_ - 31 * kSec;
  busy.method = "GET";
  busy.path = "/slow";
  // One of two threads stuck: still making progress.
  control_.SetObservation(1, {now_, {busy, ThreadActivity()}});
  Tick();
  ExpectQuiet();
  // Both stuck, heartbeat fresh: frozen.
  control_.SetObservation(1, {now_, {busy, busy}});
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{PidOf(1), SIGABRT}}));
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3}));
}

TEST_F(WorkerPoolTest, TimedOutWorkerExitIsNotCountedAsCrash) {
  PoolOptions options = Options(1);
  options.timeouts.timeout_ns = 1 * kSec;
  options.abort_grace_ns = 200 * kMs;
  StartPool(options);
  Advance(10 * kSec);
  Exit(PidOf(1), 1);  // lived long: respawned at once, no back-off
  Tick();
  ASSERT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
  Ready(PidOf(1));

  // It freezes soon after starting, and dies well inside the crash window.
  pid_t frozen = PidOf(1);
  Advance(1 * kSec + 1);
  control_.SetObservation(1, {now_ - 1 * kSec - 1, {ThreadActivity()}});
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{frozen, SIGABRT}}));
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  Advance(200 * kMs);
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{frozen, SIGKILL}}));
  Advance(100 * kMs);
  pool_->OnExit(frozen, KilledStatus(SIGKILL), now_);
  Tick();
  ExpectQuiet();

  // The replacement crashes before ready: the first crash of a series (not the
  // second).
  Exit(PidOf(2), 1);
  Advance(Backoff(1) - 1);
  Tick();
  EXPECT_TRUE(control_.TakeSpawns().empty());
  Advance(1);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
}

TEST_F(WorkerPoolTest, StartingWorkerPastBootTimeoutGetsKill) {
  StartPool(Options(1), /*ready=*/false);
  pid_t slow = PidOf(1);
  // A starting worker is judged by the boot timeout, not by its heartbeat.
  control_.SetObservation(1, {0, {}});
  Advance(60 * kSec);
  Tick();
  ExpectQuiet();
  Advance(1);
  Tick();
  EXPECT_EQ(control_.TakeSignals(), (std::vector<SignalSent>{{slow, SIGKILL}}));
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  Advance(10 * kSec);
  Tick();
  ExpectQuiet();  // no SIGABRT, no second SIGKILL
  pool_->OnExit(slow, KilledStatus(SIGKILL), now_);
  EXPECT_EQ(pool_->boot_failure_code(), 0);
  Tick();
  ExpectQuiet();
}

// --- --max-requests ---

TEST_F(WorkerPoolTest, MaxRequestsWithoutJitterReplacesBeforeDraining) {
  PoolOptions options = Options(2);
  options.max_requests = 100;
  StartPool(options);
  for (const auto& [pid, w] : pool_->workers())
    EXPECT_EQ(w.request_limit, 100u);
  pid_t old = PidOf(1);

  control_.SetServed(1, 99);
  Tick();
  ExpectQuiet();
  control_.SetServed(1, 100);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  EXPECT_EQ(pool_->workers().at(old).state, State::kRecycling);

  // Until the replacement is ready, the old worker keeps serving.
  control_.SetServed(1, 150);
  for (int i = 0; i < 5; ++i) {
    Advance(kSec);
    Tick();
    ExpectQuiet();
  }
  EXPECT_EQ(pool_->CountInState(WorkerState::kReady), 2);
  EXPECT_EQ(pool_->CountInState(State::kRecycling), 1);
  Ready(PidOf(3));
  EXPECT_TRUE(control_.TakeSignals().empty());  // drained at the next tick
  Tick();
  EXPECT_EQ(control_.TakeSignals(), (std::vector<SignalSent>{{old, SIGTERM}}));
  EXPECT_TRUE(control_.TakeSpawns().empty());
  EXPECT_EQ(pool_->workers().at(old).state, State::kDraining);
  EXPECT_EQ(pool_->CountInState(State::kReady), 2);
  Tick();
  ExpectQuiet();

  Exit(old, 0);
  Tick();
  ExpectQuiet();
  EXPECT_EQ(Ids(), (std::set<int>{2, 3}));
}

TEST_F(WorkerPoolTest, MaxRequestsJitterLimitIsWithinRangeAndExact) {
  PoolOptions options = Options(8);
  options.max_requests = 100;
  options.max_requests_jitter = 10;
  StartPool(options);
  std::set<uint64_t> limits;
  for (const auto& [pid, w] : pool_->workers()) {
    EXPECT_GE(w.request_limit, 100u);
    EXPECT_LE(w.request_limit, 110u);
    limits.insert(w.request_limit);
  }
  EXPECT_GT(limits.size(), 1u) << "jitter spreads the limits";

  // Each worker is recycled at exactly its own limit, one at a time.
  for (int id = 1; id <= 8; ++id) {
    SCOPED_TRACE(id);
    pid_t pid = PidOf(id);
    uint64_t limit = WorkerOf(id).request_limit;
    control_.SetServed(id, limit - 1);
    Tick();
    ExpectQuiet();
    control_.SetServed(id, limit);
    Tick();
    std::vector<int> spawned = control_.TakeSpawns();
    ASSERT_EQ(spawned.size(), 1u);
    const WorkerPool::Worker& fresh = WorkerOf(spawned[0]);
    EXPECT_GE(fresh.request_limit, 100u);
    EXPECT_LE(fresh.request_limit, 110u);
    EXPECT_TRUE(control_.TakeSignals().empty());
    Ready(fresh.pid);
    Tick();
    EXPECT_EQ(control_.TakeSignals(),
              (std::vector<SignalSent>{{pid, SIGTERM}}));
    Exit(pid, 0);
    Tick();
    ExpectQuiet();
    EXPECT_EQ(pool_->CountInState(State::kReady), 8);
  }
}

// --- --max-worker-memory ---

constexpr int64_t kMiB = 1 << 20;

TEST_F(WorkerPoolTest, MaxWorkerMemoryReplacesBeforeDrainingWithItsReason) {
  PoolOptions options = Options(2);
  options.max_worker_memory = 100 * kMiB;
  StartPool(options);
  pid_t old = PidOf(1);
  control_.SetServed(1, 5);
  control_.SetResident(old, 100 * kMiB);  // at the limit is not above it
  control_.SetResident(PidOf(2), 20 * kMiB);
  Tick();
  ExpectQuiet();

  control_.SetResident(old, 100 * kMiB + 1);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  EXPECT_EQ(pool_->workers().at(old).state, State::kRecycling);
  EXPECT_EQ(pool_->workers().at(old).leave_reason,
            ExitReason::kMaxWorkerMemory);

  // It keeps serving (and growing) until its replacement is ready; it is not
  // marked twice.
  control_.SetResident(old, 300 * kMiB);
  for (int i = 0; i < 5; ++i) {
    Advance(kSec);
    Tick();
    ExpectQuiet();
  }
  Ready(PidOf(3));
  Tick();
  EXPECT_EQ(control_.TakeSignals(), (std::vector<SignalSent>{{old, SIGTERM}}));
  EXPECT_EQ(pool_->workers().at(old).state, State::kDraining);
  EXPECT_EQ(pool_->CountInState(State::kReady), 2);
  Tick();
  ExpectQuiet();

  Exit(old, 0);
  Tick();
  ExpectQuiet();
  EXPECT_EQ(Ids(), (std::set<int>{2, 3}));
  EXPECT_EQ(pool_->exits().at("max_worker_memory"), 1u);
  EXPECT_EQ(pool_->exits().at("max_requests"), 0u);
  EXPECT_EQ(pool_->exits().at("reload"), 0u);
}

TEST_F(WorkerPoolTest, MaxWorkerMemoryOffReadsNoMemory) {
  StartPool(Options(2));
  control_.SetServed(1, 5);
  control_.SetResident(PidOf(1), 1LL << 40);
  Tick();
  ExpectQuiet();
  EXPECT_EQ(control_.memory_reads(), 0);
}

TEST_F(WorkerPoolTest, MaxWorkerMemoryLeavesStartingAndTimedOutWorkersAlone) {
  PoolOptions options = Options(2);
  options.max_worker_memory = 100 * kMiB;
  options.timeouts.timeout_ns = 2 * kSec;
  StartPool(options, /*ready=*/false);
  pool_->FinishBoot();
  for (pid_t pid : Pids()) control_.SetResident(pid, 500 * kMiB);
  control_.SetServed(1, 1);
  control_.SetServed(2, 1);
  Tick();  // both still starting: nothing to recycle yet
  ExpectQuiet();

  // Worker 2 freezes: the timeout ladder owns it, not recycling.
  Ready(PidOf(1));
  Ready(PidOf(2));
  WorkerObservation frozen;
  frozen.heartbeat_ns = now_;
  control_.SetObservation(2, frozen);
  Advance(3 * kSec);
  pid_t p2 = PidOf(2);
  Tick();
  std::vector<SignalSent> signals = control_.TakeSignals();
  EXPECT_EQ(signals, (std::vector<SignalSent>{{p2, SIGABRT}}));
  EXPECT_EQ(pool_->workers().at(p2).leave_reason,
            ExitReason::kHeartbeatTimeout);
  EXPECT_EQ(pool_->workers().at(p2).state, State::kAborting);
  EXPECT_EQ(pool_->workers().at(PidOf(1)).state, State::kRecycling);
}

TEST_F(WorkerPoolTest, MaxWorkerMemoryIgnoresAWorkerThatServedNothing) {
  // Its memory is the app's after import: a replacement would be as big.
  PoolOptions options = Options(1);
  options.max_worker_memory = 10 * kMiB;
  StartPool(options);
  pid_t pid = PidOf(1);
  control_.SetResident(pid, 50 * kMiB);
  for (int i = 0; i < 3; ++i) {
    Tick();
    ExpectQuiet();
  }
  EXPECT_TRUE(pool_->workers().at(pid).memory_warned);
  EXPECT_EQ(pool_->workers().at(pid).state, State::kReady);
  control_.SetServed(1, 1);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  EXPECT_EQ(pool_->workers().at(pid).state, State::kRecycling);
}

TEST_F(WorkerPoolTest, MaxWorkerMemoryRecyclesEveryWorkerWithoutADip) {
  PoolOptions options = Options(3);
  options.max_worker_memory = 100 * kMiB;
  StartPool(options);
  std::vector<pid_t> old = Pids();
  for (int id = 1; id <= 3; ++id) {
    control_.SetServed(id, 10);
    control_.SetResident(PidOf(id), 200 * kMiB);
  }
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{4, 5, 6}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  // Each ready replacement lets exactly one old worker drain.
  for (int id = 4; id <= 6; ++id) {
    Ready(PidOf(id));
    Tick();
    EXPECT_EQ(control_.TakeSignals().size(), 1u);
    int serving = 0;
    for (const auto& [pid, w] : pool_->workers())
      serving += w.public_state() == WorkerState::kReady;
    EXPECT_EQ(serving, 3);
  }
  for (pid_t pid : old) {
    EXPECT_EQ(pool_->workers().at(pid).state, State::kDraining);
    Exit(pid, 0);
  }
  Tick();
  ExpectQuiet();
  EXPECT_EQ(pool_->exits().at("max_worker_memory"), 3u);
}

TEST_F(WorkerPoolTest, MaxRequestsKeepsItsReasonBesideMaxWorkerMemory) {
  PoolOptions options = Options(1);
  options.max_requests = 10;
  options.max_worker_memory = 100 * kMiB;
  StartPool(options);
  pid_t old = PidOf(1);
  control_.SetServed(1, 10);
  control_.SetResident(old, 200 * kMiB);  // both limits: counted once
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  EXPECT_EQ(pool_->workers().at(old).leave_reason, ExitReason::kMaxRequests);
  Ready(PidOf(2));
  Tick();
  EXPECT_EQ(control_.TakeSignals(), (std::vector<SignalSent>{{old, SIGTERM}}));
  Exit(old, 0);
  EXPECT_EQ(pool_->exits().at("max_requests"), 1u);
  EXPECT_EQ(pool_->exits().at("max_worker_memory"), 0u);
}

TEST(PoolOptionsTest, MaxWorkerMemoryFromEverySource) {
  auto parsed = [](const std::string& value) {
    return ParseCommandLine({"--max-worker-memory", value, "app:app"});
  };
  EXPECT_EQ(PoolOptions::FromConfig(*parsed("200M")).max_worker_memory,
            200 * kMiB);
  EXPECT_EQ(parsed("1G")->max_worker_memory, 1024 * kMiB);
  EXPECT_EQ(parsed("1.5K")->max_worker_memory, 1536);
  EXPECT_EQ(parsed("4096")->max_worker_memory, 4096);
  EXPECT_EQ(parsed("0")->max_worker_memory, 0);
  EXPECT_EQ(Config().max_worker_memory, 0);  // off by default
  for (const char* bad : {"", "200X", "-1", "nan", "inf", "1e30G", "M"}) {
    SCOPED_TRACE(bad);
    auto config = parsed(bad);
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.status().message().find("--max-worker-memory"),
              std::string::npos);
  }

  Config from_toml;
  ASSERT_TRUE(ApplyToml("max_worker_memory = \"64M\"\n", "t", &from_toml).ok());
  EXPECT_EQ(from_toml.max_worker_memory, 64 * kMiB);
  ASSERT_TRUE(ApplyToml("max_worker_memory = 1048576\n", "t", &from_toml).ok());
  EXPECT_EQ(from_toml.max_worker_memory, kMiB);
  EXPECT_FALSE(ApplyToml("max_worker_memory = true\n", "t", &from_toml).ok());

  Config from_env;
  std::string entry = "WSGID_MAX_WORKER_MEMORY=2G";
  char* env[] = {entry.data(), nullptr};
  ASSERT_TRUE(ApplyEnvironment(env, &from_env).ok());
  EXPECT_EQ(from_env.max_worker_memory, 2048 * kMiB);
}

// --- Reload ---

TEST_F(WorkerPoolTest, ReloadReplacesOldWorkersOnePerReadyReplacement) {
  StartPool(Options(2));
  pid_t old1 = PidOf(1);
  pid_t old2 = PidOf(2);
  Advance(kSec);
  pool_->Reload(Options(2), now_);
  EXPECT_EQ(pool_->generation(), 2);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3, 4}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  EXPECT_EQ(WorkerOf(3).generation, 2);
  EXPECT_EQ(WorkerOf(4).generation, 2);
  EXPECT_EQ(WorkerOf(1).generation, 1);

  Advance(kSec);
  Tick();
  ExpectQuiet();  // nothing ready yet: the old ones keep serving

  Ready(PidOf(4));
  Tick();
  std::vector<SignalSent> first = control_.TakeSignals();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].sig, SIGTERM);
  EXPECT_TRUE(first[0].pid == old1 || first[0].pid == old2);
  EXPECT_TRUE(control_.TakeSpawns().empty());
  Tick();
  ExpectQuiet();  // one per ready replacement

  Ready(PidOf(3));
  Tick();
  pid_t other = first[0].pid == old1 ? old2 : old1;
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{other, SIGTERM}}));
  EXPECT_EQ(pool_->CountInState(State::kDraining), 2);
  EXPECT_EQ(pool_->CountInState(State::kReady), 2);

  Exit(old1, 0);
  Exit(old2, 0);
  Tick();
  ExpectQuiet();
  EXPECT_EQ(Ids(), (std::set<int>{3, 4}));
}

TEST_F(WorkerPoolTest, ReloadsInQuickSuccessionKeepTheReadyWorkersServing) {
  // A SIGHUP storm: each reload starts a generation before the last one is
  // ready. The superseded replacements, never ready, are the ones to stop; the
  // workers actually serving stay until a replacement of the newest generation
  // is ready, so capacity never dips.
  StartPool(Options(2));
  pid_t old1 = PidOf(1);
  pid_t old2 = PidOf(2);
  pool_->Reload(Options(2), now_);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3, 4}));
  pid_t mid3 = PidOf(3);
  pid_t mid4 = PidOf(4);
  for (int i = 0; i < 5; ++i) {
    Advance(50 * kMs);
    pool_->Reload(Options(2), now_);
    Tick();
  }
  EXPECT_EQ(pool_->generation(), 7);
  for (const SignalSent& s : control_.TakeSignals()) {
    EXPECT_NE(s.pid, old1);
    EXPECT_NE(s.pid, old2);
  }
  EXPECT_EQ(pool_->workers().at(old1).state, State::kReady);
  EXPECT_EQ(pool_->workers().at(old2).state, State::kReady);
  EXPECT_EQ(pool_->workers().at(mid3).state, State::kDraining);
  EXPECT_EQ(pool_->workers().at(mid4).state, State::kDraining);
  // Only the newest generation's two are starting (the rest were stopped).
  int starting_current = 0;
  for (const auto& [pid, w] : pool_->workers())
    starting_current += w.state == State::kStarting && w.generation == 7;
  EXPECT_EQ(starting_current, 2);
  EXPECT_EQ(pool_->CountInState(State::kStarting), 2);

  // A superseded worker that becomes ready late changes nothing.
  Ready(mid3);
  Tick();
  EXPECT_TRUE(control_.TakeSignals().empty());
  // The newest generation's replacements retire the serving workers one each.
  std::vector<pid_t> newest;
  for (const auto& [pid, w] : pool_->workers())
    if (w.generation == 7) newest.push_back(pid);
  Ready(newest[0]);
  Tick();
  EXPECT_EQ(control_.TakeSignals().size(), 1u);
  Ready(newest[1]);
  Tick();
  EXPECT_EQ(control_.TakeSignals().size(), 1u);
  EXPECT_EQ(pool_->workers().at(old1).state, State::kDraining);
  EXPECT_EQ(pool_->workers().at(old2).state, State::kDraining);
}

TEST_F(WorkerPoolTest, ReloadAppliesNewWorkerCount) {
  StartPool(Options(2));
  pool_->Reload(Options(3), now_);
  EXPECT_EQ(pool_->desired(), 3);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3, 4, 5}));
  EXPECT_TRUE(control_.TakeSignals().empty());
}

TEST_F(WorkerPoolTest, ReloadKeepsCountSetAtRunTime) {
  StartPool(Options(2));
  pool_->SetDesired(3);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3}));
  Ready(PidOf(3));
  pool_->Reload(Options(5), now_);
  EXPECT_EQ(pool_->desired(), 3);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{4, 5, 6}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  // And again on a later reload.
  for (int id = 4; id <= 6; ++id) Ready(PidOf(id));
  Tick();
  EXPECT_EQ(control_.TakeSignals().size(), 3u);
  pool_->Reload(Options(1), now_);
  EXPECT_EQ(pool_->desired(), 3);
}

TEST_F(WorkerPoolTest, ReloadWhoseAppCannotLoadRevertsGeneration) {
  StartPool(Options(3));
  std::vector<pid_t> old = {PidOf(1), PidOf(2), PidOf(3)};
  Advance(kSec);
  pool_->Reload(Options(3), now_);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{4, 5, 6}));
  pid_t failing = PidOf(5);
  pid_t n4 = PidOf(4);
  pid_t n6 = PidOf(6);
  Advance(500 * kMs);
  Exit(failing, WorkerPool::kAppLoadError);
  EXPECT_EQ(pool_->generation(), 1);
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{n4, SIGKILL}, {n6, SIGKILL}}));
  EXPECT_EQ(pool_->workers().at(n4).state, State::kDraining);
  EXPECT_EQ(pool_->workers().at(n6).state, State::kDraining);

  // A late ready line from a killed worker changes nothing.
  Ready(n4);
  EXPECT_EQ(pool_->workers().at(n4).state, State::kDraining);
  for (int i = 0; i < 3; ++i) {
    Advance(kSec);
    Tick();
    ExpectQuiet();  // no SIGTERM to the old ones, nothing spawned
  }
  Exit(n4, 0);
  pool_->OnExit(n6, KilledStatus(SIGKILL), now_);
  Tick();
  ExpectQuiet();
  for (pid_t pid : old)
    EXPECT_EQ(pool_->workers().at(pid).state, State::kReady);
  EXPECT_EQ(pool_->CountInState(State::kReady), 3);
  EXPECT_EQ(Ids(), (std::set<int>{1, 2, 3}));

  // The next reload works as usual.
  pool_->Reload(Options(3), now_);
  EXPECT_EQ(pool_->generation(), 2);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{4, 5, 6}));
}

TEST_F(WorkerPoolTest,
       ReloadWorkerCrashingWithOtherCodeIsRespawnedNotReverted) {
  StartPool(Options(1));
  pool_->Reload(Options(1), now_);
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  Advance(100 * kMs);
  Exit(PidOf(2), 1);
  EXPECT_EQ(pool_->generation(), 2);
  EXPECT_TRUE(control_.TakeSignals().empty());
  Advance(Backoff(1));
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  EXPECT_TRUE(control_.TakeSignals().empty());
}

// Regression (fixed): the revert also fires after a reload has completed. Once
// every old worker has been replaced, a later respawn in the (now only)
// generation that exits with code 4 before ready "reverts" to a generation that
// has no workers left: the pool SIGKILLs its healthy serving workers and the
// generation number goes back, instead of treating the exit as a crash
// (back-off and respawn) while the ready worker keeps serving.
TEST_F(WorkerPoolTest, AppLoadErrorAfterCompletedReloadKillsServingWorkers) {
  StartPool(Options(2));
  pool_->Reload(Options(2), now_);
  ASSERT_EQ(control_.TakeSpawns(), (std::vector<int>{3, 4}));
  pid_t old1 = PidOf(1);
  pid_t old2 = PidOf(2);
  Ready(PidOf(3));
  Ready(PidOf(4));
  Tick();
  ASSERT_EQ(control_.TakeSignals().size(), 2u);
  Exit(old1, 0);
  Exit(old2, 0);
  Tick();
  ExpectQuiet();
  ASSERT_EQ(Ids(), (std::set<int>{3, 4}));  // the reload is over

  // Much later, worker 3 dies; its respawn (into slot 1) cannot import the app.
  Advance(60 * kSec);
  pid_t survivor = PidOf(4);
  Exit(PidOf(3), 1);
  Tick();
  ASSERT_EQ(control_.TakeSpawns(), (std::vector<int>{1}));
  Advance(500 * kMs);
  Exit(PidOf(1), WorkerPool::kAppLoadError);

  EXPECT_EQ(pool_->generation(), 2);
  EXPECT_TRUE(control_.TakeSignals().empty())
      << "the serving worker was killed";
  EXPECT_EQ(pool_->workers().at(survivor).state, State::kReady);
}

// --- SetDesired ---

TEST_F(WorkerPoolTest, SetDesiredUpSpawnsAndDownDrainsNewest) {
  StartPool(Options(2));
  Advance(kSec);
  pool_->SetDesired(4);
  EXPECT_EQ(pool_->desired(), 4);
  ExpectQuiet();  // acted on at the next tick
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3, 4}));
  Ready(PidOf(3));
  Ready(PidOf(4));
  Advance(kSec);
  pool_->SetDesired(5);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{5}));
  Ready(PidOf(5));
  Advance(kSec);

  pool_->SetDesired(3);
  Tick();
  std::vector<SignalSent> drained = control_.TakeSignals();
  ASSERT_EQ(drained.size(), 2u);
  std::set<pid_t> drained_pids = {drained[0].pid, drained[1].pid};
  EXPECT_EQ(drained[0].sig, SIGTERM);
  EXPECT_EQ(drained[1].sig, SIGTERM);
  // Id 5 is the newest; 3 and 4 started together.
  EXPECT_EQ(drained_pids.count(PidOf(5)), 1u);
  EXPECT_TRUE(drained_pids.count(PidOf(3)) + drained_pids.count(PidOf(4)) == 1);
  EXPECT_EQ(WorkerOf(1).state, State::kReady);
  EXPECT_EQ(WorkerOf(2).state, State::kReady);
  EXPECT_TRUE(control_.TakeSpawns().empty());
  Tick();
  ExpectQuiet();

  // Their expected exits are not respawned.
  for (pid_t pid : drained_pids) Exit(pid, 0);
  Tick();
  ExpectQuiet();
  EXPECT_EQ(pool_->CountInState(State::kReady), 3);
}

TEST_F(WorkerPoolTest, SetDesiredClampsToOneThroughHalfTheIds) {
  PoolOptions options = Options(2);
  options.max_ids = 8;
  StartPool(options);
  pool_->SetDesired(0);
  EXPECT_EQ(pool_->desired(), 1);
  pool_->SetDesired(-3);
  EXPECT_EQ(pool_->desired(), 1);
  Tick();
  EXPECT_EQ(control_.TakeSignals().size(), 1u);
  EXPECT_EQ(pool_->CountInState(State::kReady), 1);
  pool_->SetDesired(100);
  EXPECT_EQ(pool_->desired(), 4);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{3, 4, 5}));
}

// --- StopAll, unknown pids ---

TEST_F(WorkerPoolTest, StopAllSignalsEveryWorkerAndTheirExitsAreNotRespawned) {
  StartPool(Options(3));
  pool_->SetDesired(4);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{4}));  // still starting
  std::vector<pid_t> pids = Pids();
  pool_->StopAll(SIGTERM);
  std::vector<SignalSent> expected;
  for (pid_t pid : pids) expected.push_back({pid, SIGTERM});
  EXPECT_EQ(control_.TakeSignals(), expected);
  EXPECT_EQ(pool_->CountInState(State::kDraining), 4);
  EXPECT_EQ(pool_->CountInState(State::kReady), 0);
  EXPECT_EQ(pool_->CountInState(State::kStarting), 0);

  Advance(kSec);
  for (pid_t pid : pids) {
    EXPECT_FALSE(pool_->empty());
    Exit(pid, 0);
  }
  EXPECT_TRUE(pool_->empty());
  ExpectQuiet();
}

TEST_F(WorkerPoolTest, UnknownPidsAreIgnored) {
  StartPool(Options(2), /*ready=*/false);
  auto before = Pids();
  pool_->OnReady(4242, now_);
  pool_->OnExit(4242, ExitStatus(WorkerPool::kAppLoadError), now_);
  pool_->OnExit(1, KilledStatus(SIGKILL), now_);
  EXPECT_EQ(Pids(), before);
  EXPECT_EQ(pool_->CountInState(State::kStarting), 2);
  EXPECT_EQ(pool_->boot_failure_code(), 0);
  pool_->FinishBoot();
  Tick();
  ExpectQuiet();
}

// --- The transition table, driven through the pool ---

// Sends the error log to a file for the test's life; Errors() reads it.
class CapturedLog {
 public:
  CapturedLog()
      : path_(::testing::TempDir() + "/worker_pool_test_" +
              std::to_string(::getpid()) + ".log") {
    std::remove(path_.c_str());
    EXPECT_TRUE(OpenErrorLog(path_, LogLevel::kError).ok());
  }
  ~CapturedLog() {
    (void)OpenErrorLog("-", LogLevel::kInfo);
    std::remove(path_.c_str());
  }
  std::string Text() const {
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path_;
};

int SignalOf(LifecycleSignal signal) {
  switch (signal) {
    case LifecycleSignal::kNone:
      return 0;
    case LifecycleSignal::kTerm:
      return SIGTERM;
    case LifecycleSignal::kKill:
      return SIGKILL;
    case LifecycleSignal::kAbort:
      return SIGABRT;
    case LifecycleSignal::kForward:
      return SIGQUIT;  // what Trigger(kStop) sends
  }
  return -1;
}

// One scenario: worker 1 of generation 1 serves; a reload started generation
// 2 with workers 2 (the subject) and 3 (its sibling, still starting). Reach()
// puts the subject in a state, Trigger() makes the pool fire an event at it,
// both through the public API only.
class WorkerLifecycleRowTest : public WorkerPoolTest {
 protected:
  void SetUp() override {
    StartPool(Options(1));
    pool_->Reload(Options(2), now_);
    ASSERT_EQ(control_.TakeSpawns(), (std::vector<int>{2, 3}));
    subject_ = PidOf(2);
    sibling_ = PidOf(3);
  }

  void Reach(State state) {
    switch (state) {
      case State::kStarting:
        break;
      case State::kRecyclingStarting:
        ASSERT_TRUE(pool_->Restart(2));
        break;
      case State::kReady:
        Ready(subject_);
        break;
      case State::kRecycling:
        Ready(subject_);
        ASSERT_TRUE(pool_->Restart(2));
        break;
      case State::kDraining:
        ASSERT_TRUE(pool_->Kill(2));
        break;
      case State::kAborting:
        Ready(subject_);
        Freeze();
        break;
      case State::kKilled:
        Ready(subject_);
        Freeze();
        Advance(kSec);
        Tick();
        break;
      case State::kExited:
        FAIL() << "not reachable while the pool knows the worker";
    }
    ASSERT_EQ(pool_->workers().at(subject_).state, state);
    control_.TakeSignals();
    control_.TakeSpawns();
  }

  void Trigger(LifecycleEvent event) {
    switch (event) {
      case LifecycleEvent::kReadyLine:
        Ready(subject_);
        break;
      case LifecycleEvent::kRecycle:
        EXPECT_TRUE(pool_->Restart(2));
        break;
      case LifecycleEvent::kDrain:
        // A newer generation, ready: every older worker is replaced.
        pool_->Reload(Options(2), now_);
        for (const auto& [pid, w] : pool_->workers())
          if (w.generation == 3) Ready(pid);
        Tick();
        break;
      case LifecycleEvent::kStop:
        pool_->StopAll(SIGQUIT);
        break;
      case LifecycleEvent::kKill:
        EXPECT_TRUE(pool_->Kill(2));
        break;
      case LifecycleEvent::kRevert:
        Exit(sibling_, WorkerPool::kAppLoadError);
        EXPECT_EQ(pool_->generation(), 1);
        break;
      case LifecycleEvent::kFrozen:
        Freeze();
        break;
      case LifecycleEvent::kAbortGraceExpired:
        Advance(kSec);
        Tick();
        break;
      case LifecycleEvent::kBootTimeout:
        Advance(60 * kSec + 1);
        Tick();
        break;
      case LifecycleEvent::kReaped:
        Exit(subject_, 0);
        break;
    }
  }

  // The subject's heartbeat goes stale past the timeout; a tick judges it.
  void Freeze() {
    control_.SetObservation(2, {now_, {}});
    Advance(31 * kSec);
    control_.SetObservation(2, {now_ - 31 * kSec, {ThreadActivity()}});
    Tick();
  }

  std::vector<int> SignalsToSubject() {
    std::vector<int> sigs;
    for (const SignalSent& s : control_.TakeSignals())
      if (s.pid == subject_) sigs.push_back(s.sig);
    return sigs;
  }

  pid_t subject_ = 0;
  pid_t sibling_ = 0;
};

TEST_F(WorkerLifecycleRowTest, EveryRowOfTheTableIsReachableThroughThePool) {
  CapturedLog log;
  for (const LifecycleTransition& row : LifecycleTable()) {
    SCOPED_TRACE(std::string(StateInfo(row.from).name) + " + " +
                 std::string(LifecycleEventName(row.event)));
    now_ = 1000 * kSec;
    SetUp();
    Reach(row.from);
    ExitReason before = pool_->workers().at(subject_).leave_reason;
    Trigger(row.event);
    std::vector<int> want;
    if (SignalOf(row.signal) != 0) want.push_back(SignalOf(row.signal));
    EXPECT_EQ(SignalsToSubject(), want);
    if (row.to == State::kExited) {
      EXPECT_EQ(pool_->workers().count(subject_), 0u);
      continue;
    }
    const WorkerPool::Worker& w = pool_->workers().at(subject_);
    EXPECT_EQ(w.state, row.to);
    if (row.reason == ReasonRule::kKeep) {
      EXPECT_EQ(w.leave_reason, before);
    }
  }
  EXPECT_EQ(log.Text().find("no transition"), std::string::npos) << log.Text();
}

TEST_F(WorkerPoolTest, AnEventWithoutARowIsLoggedAndIgnored) {
  StartPool(Options(1));
  pid_t pid = PidOf(1);
  CapturedLog log;
  Ready(pid);  // a second ready line: ready has no row for it
  EXPECT_EQ(pool_->workers().at(pid).state, State::kReady);
  ExpectQuiet();
  std::string text = log.Text();
  EXPECT_NE(text.find("[ERROR]"), std::string::npos) << text;
  EXPECT_NE(text.find("worker 1 (pid " + std::to_string(pid) +
                      "): no transition for ready_line in state ready; "
                      "ignored"),
            std::string::npos)
      << text;
  Advance(kSec);
  Tick();
  ExpectQuiet();
}

TEST_F(WorkerPoolTest, RestartAndKillOnlyPickWorkersTheyApplyTo) {
  StartPool(Options(2));
  CapturedLog log;
  ASSERT_TRUE(pool_->Kill(1));
  EXPECT_EQ(WorkerOf(1).state, State::kDraining);
  control_.TakeSignals();
  // Draining has no row for kill or recycle: refused quietly, not an error.
  EXPECT_FALSE(pool_->Kill(1));
  EXPECT_FALSE(pool_->Restart(1));
  EXPECT_FALSE(pool_->Kill(7));  // no such worker
  ExpectQuiet();
  EXPECT_EQ(log.Text(), "");
}

// Restarted before it was ready: replaced like a recycled worker, and still
// counted as starting.
TEST_F(WorkerPoolTest, RestartBeforeReadyIsReplacedOnceTheReplacementIsReady) {
  StartPool(Options(1), /*ready=*/false);
  pool_->FinishBoot();
  pid_t first = PidOf(1);
  ASSERT_TRUE(pool_->Restart(1));
  EXPECT_EQ(WorkerOf(1).state, State::kRecyclingStarting);
  EXPECT_EQ(WorkerOf(1).public_state(), WorkerState::kStarting);
  Tick();
  EXPECT_EQ(control_.TakeSpawns(), (std::vector<int>{2}));
  EXPECT_TRUE(control_.TakeSignals().empty());
  Ready(first);  // still serving until the replacement is ready
  EXPECT_EQ(WorkerOf(1).state, State::kRecycling);
  EXPECT_EQ(pool_->CountInState(WorkerState::kReady), 1);
  Tick();
  ExpectQuiet();
  Ready(PidOf(2));
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{first, SIGTERM}}));
  Exit(first, 0);
  EXPECT_EQ(pool_->exits().at("exit"), 1u);
  EXPECT_EQ(pool_->exits().at("reload"), 0u);
}

// A worker on the timeout ladder reads as draining: it serves no one.
TEST_F(WorkerPoolTest, AbortingAndKilledWorkersReadAsDraining) {
  StartPool(Options(2));
  pid_t frozen = PidOf(1);
  Advance(40 * kSec);
  control_.SetObservation(1, {now_ - 31 * kSec, {ThreadActivity()}});
  Tick();
  EXPECT_EQ(pool_->workers().at(frozen).state, State::kAborting);
  EXPECT_EQ(pool_->workers().at(frozen).public_state(), WorkerState::kDraining);
  EXPECT_EQ(pool_->CountInState(WorkerState::kReady), 1);
  EXPECT_EQ(pool_->CountInState(WorkerState::kStarting), 1);
  EXPECT_EQ(pool_->CountInState(WorkerState::kDraining), 1);
  Advance(kSec);
  Tick();
  EXPECT_EQ(pool_->workers().at(frozen).state, State::kKilled);
  EXPECT_EQ(pool_->workers().at(frozen).public_state(), WorkerState::kDraining);
  EXPECT_EQ(pool_->CountInState(State::kKilled), 1);
}

// The operator's kill during the abort grace does not wait for the grace,
// and the ladder sends no second SIGKILL.
TEST_F(WorkerPoolTest, KillDuringTheAbortGraceKillsAtOnce) {
  StartPool(Options(2));
  pid_t frozen = PidOf(1);
  Advance(40 * kSec);
  control_.SetObservation(1, {now_ - 31 * kSec, {ThreadActivity()}});
  Tick();
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{frozen, SIGABRT}}));
  control_.TakeSpawns();
  ASSERT_TRUE(pool_->Kill(1));
  EXPECT_EQ(control_.TakeSignals(),
            (std::vector<SignalSent>{{frozen, SIGKILL}}));
  EXPECT_EQ(pool_->workers().at(frozen).state, State::kKilled);
  EXPECT_FALSE(pool_->Kill(1));
  Advance(5 * kSec);
  Tick();
  ExpectQuiet();
  pool_->OnExit(frozen, KilledStatus(SIGKILL), now_);
  EXPECT_EQ(pool_->exits().at("exit"), 1u);
  EXPECT_EQ(pool_->exits().at("heartbeat_timeout"), 0u);
}

// A worker killed past the boot timeout may still write its ready line: it
// stays killed, and does not confirm its generation.
TEST_F(WorkerPoolTest, LateReadyLineFromABootTimedOutWorkerIsIgnored) {
  StartPool(Options(1));
  pool_->Reload(Options(1), now_);
  pid_t slow = PidOf(2);
  Advance(60 * kSec + 1);
  Tick();
  EXPECT_EQ(pool_->workers().at(slow).state, State::kKilled);
  EXPECT_EQ(pool_->workers().at(slow).leave_reason, ExitReason::kBootFailure);
  Ready(slow);
  EXPECT_EQ(pool_->workers().at(slow).state, State::kKilled);
  EXPECT_EQ(pool_->reloads_ok(), 0u);
  pool_->OnExit(slow, KilledStatus(SIGKILL), now_);
  EXPECT_EQ(pool_->exits().at("boot_failure"), 1u);
}

// A worker that freezes while draining goes down the ladder, and its exit is
// counted under the timeout, not under why it was drained.
TEST_F(WorkerPoolTest, DrainingWorkerThatFreezesIsAbortedThenKilled) {
  StartPool(Options(2));
  Advance(kSec);
  pool_->SetDesired(1);
  Tick();
  std::vector<SignalSent> drained = control_.TakeSignals();
  ASSERT_EQ(drained.size(), 1u);
  pid_t pid = drained[0].pid;
  int id = pool_->workers().at(pid).id;
  EXPECT_EQ(pool_->workers().at(pid).leave_reason, ExitReason::kScaleDown);
  Advance(31 * kSec);
  control_.SetObservation(id, {now_ - 31 * kSec, {ThreadActivity()}});
  Tick();
  EXPECT_EQ(control_.TakeSignals(), (std::vector<SignalSent>{{pid, SIGABRT}}));
  EXPECT_TRUE(control_.TakeSpawns().empty());  // it was not capacity
  EXPECT_EQ(pool_->workers().at(pid).state, State::kAborting);
  Advance(kSec);
  Tick();
  EXPECT_EQ(control_.TakeSignals(), (std::vector<SignalSent>{{pid, SIGKILL}}));
  pool_->OnExit(pid, KilledStatus(SIGKILL), now_);
  EXPECT_EQ(pool_->exits().at("heartbeat_timeout"), 1u);
  EXPECT_EQ(pool_->exits().at("scale_down"), 0u);
}

}  // namespace
}  // namespace wsgid
