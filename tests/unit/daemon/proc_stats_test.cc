// The master's kernel reads, against this very process: real /proc files, real
// threads, no fakes.
#include "daemon/proc_stats.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace wsgid {
namespace {

// This process's user plus system CPU time, seconds.
double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double CpuDemandSeconds(pid_t pid) {
  double total = 0;
  for (const auto& [tid, seconds] : CpuDemandByThread(pid)) total += seconds;
  return total;
}

// Burns CPU on `threads` threads for about `seconds` of wall time and returns
// `measure()` taken just before they stop: an exited thread leaves
// /proc/PID/task, and its demand with it.
template <typename Measure>
auto Burn(int threads, double seconds, Measure measure) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (int i = 0; i < threads; ++i)
    burners.emplace_back([&stop] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed)) x = x + 1;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  auto measured = measure();
  stop = true;
  for (auto& t : burners) t.join();
  return measured;
}

TEST(ProcStatsTest, CpuDemandCountsBurningThreads) {
  double before = CpuDemandSeconds(::getpid());
  double burned =
      Burn(1, 0.3, [] { return CpuDemandSeconds(::getpid()); }) - before;
  // A burning thread is on a CPU or waiting for one the whole time.
  EXPECT_GT(burned, 0.2);
  EXPECT_LT(burned, 2.0);
}

TEST(ProcStatsTest, CpuDemandIgnoresSleepingThreads) {
  double before = CpuDemandSeconds(::getpid());
  std::vector<std::thread> sleepers;
  for (int i = 0; i < 4; ++i)
    sleepers.emplace_back(
        [] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); });
  for (auto& t : sleepers) t.join();
  EXPECT_LT(CpuDemandSeconds(::getpid()) - before, 0.1);
}

// On a crowded machine CPU time falls behind wall time, but demand does not:
// four burners on fewer cores still demand about four seconds per second.
TEST(ProcStatsTest, CpuDemandIncludesWaitingForACore) {
  unsigned cores = std::thread::hardware_concurrency();
  int threads = static_cast<int>(cores) * 2;
  double before = CpuDemandSeconds(::getpid());
  double cpu_before = CpuSeconds();
  auto [demand_after, cpu_after] = Burn(threads, 0.5, [] {
    return std::pair(CpuDemandSeconds(::getpid()), CpuSeconds());
  });
  double demand = demand_after - before;
  double cpu = cpu_after - cpu_before;
  EXPECT_GT(demand, 0.5 * threads * 0.6);
  EXPECT_GT(demand, cpu * 1.3);
}

TEST(ProcStatsTest, ThreadsAreListedByTheirIds) {
  auto demand = CpuDemandByThread(::getpid());
  EXPECT_TRUE(demand.count(::getpid())) << "the main thread's id is the pid";
}

TEST(ProcStatsTest, ProcessThatIsGoneReadsZero) {
  EXPECT_TRUE(CpuDemandByThread(999'999'999).empty());
  EXPECT_EQ(ResidentBytes(999'999'999), 0);
  EXPECT_GT(ResidentBytes(::getpid()), 0);
}

TEST(ThreadStatesTest, ClassifiesTheSystemCallText) {
  ThreadStates states;
  CountThreadState("running", &states);
  CountThreadState("-1 0x7ffd5a0 0x7f00", &states);  // preempted in user space
  CountThreadState(std::to_string(SYS_futex) + " 0x1 0x80 0x0 0x0", &states);
  CountThreadState(std::to_string(SYS_clock_nanosleep) + " 0x1 0x0", &states);
  CountThreadState(std::to_string(SYS_epoll_pwait) + " 0x5 0x7f 0x40", &states);
  CountThreadState(std::to_string(SYS_rt_sigtimedwait) + " 0x7f 0x0", &states);
  CountThreadState("", &states);  // unreadable
  EXPECT_EQ(states.computing, 2);
  EXPECT_EQ(states.lock_wait, 1);
  EXPECT_EQ(states.io_wait, 1);
  EXPECT_EQ(states.idle, 2);
  EXPECT_EQ(states.unknown, 1);
}

// Real threads of this process: one sleeping (as a request waiting on a slow
// database), one blocked on a condition variable (as on the GIL), one spinning.
TEST(ThreadStatesTest, SamplesThisProcesssThreads) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> stop{false};
  std::thread sleeper([&stop] {
    while (!stop.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  std::thread spinner([&stop] {
    while (!stop.load()) {
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ThreadStates states = SampleThreadStates(::getpid());
  stop = true;
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  spinner.join();
  waiter.join();
  sleeper.join();
  EXPECT_GE(states.io_wait, 1);
  EXPECT_GE(states.lock_wait, 1);
  EXPECT_GE(states.computing, 1);  // the spinner, and this thread reading
  EXPECT_EQ(states.unknown, 0);
  EXPECT_EQ(SampleThreadStates(0).computing, 0);  // no such process
}

}  // namespace
}  // namespace wsgid
