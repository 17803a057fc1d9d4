// The command queue between the control threads and the supervisor loop: real
// threads post, the test plays the loop with a fake applier. The eventfd is
// waited on with poll (no sleeps); only the timeout test waits, for its own
// short timeout.
#include "daemon/command_queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace wsgid {
namespace {

using std::chrono::milliseconds;

// Blocks until the queue's eventfd says a command waits.
void WaitForWake(const CommandQueue& queue) {
  pollfd fd{queue.wake_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 10'000), 1);
}

bool Woken(const CommandQueue& queue) {
  pollfd fd{queue.wake_fd(), POLLIN, 0};
  return ::poll(&fd, 1, 0) == 1;
}

Command Scale(int workers) {
  Command c{Command::Kind::kScale};
  c.value = workers;
  return c;
}

TEST(CommandQueueTest, ThePosterGetsTheLoopsAnswer) {
  CommandQueue queue;
  CommandResult answer;
  std::thread control([&] { answer = queue.Post(Scale(3)); });
  WaitForWake(queue);
  std::vector<int> applied;
  queue.Drain(
      [&](const Command& c) {
        applied.push_back(c.value);
        return CommandResult{200, "", "", c.value + 1};
      },
      [] {});
  control.join();
  EXPECT_EQ(applied, std::vector<int>{3});
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.value, 4);
  EXPECT_FALSE(Woken(queue));  // the drain consumed the wake-up
}

TEST(CommandQueueTest, CommandsFromSeveralThreadsAreEachAnsweredOnce) {
  CommandQueue queue;
  constexpr int kPosters = 8;
  std::vector<CommandResult> answers(kPosters);
  std::vector<std::thread> posters;
  for (int i = 0; i < kPosters; ++i)
    posters.emplace_back([&, i] { answers[i] = queue.Post(Scale(i)); });
  int applied = 0;
  while (applied < kPosters) {
    WaitForWake(queue);
    queue.Drain(
        [&](const Command& c) {
          ++applied;
          return CommandResult{202, "", "", c.value * 10};
        },
        [] {});
  }
  for (std::thread& t : posters) t.join();
  EXPECT_EQ(applied, kPosters);
  for (int i = 0; i < kPosters; ++i) {
    EXPECT_EQ(answers[i].status, 202);
    EXPECT_EQ(answers[i].value, i * 10);
  }
}

TEST(CommandQueueTest, ADrainWithNothingQueuedAppliesAndPublishesNothing) {
  CommandQueue queue;
  int applied = 0;
  int published = 0;
  queue.Drain(
      [&](const Command&) {
        ++applied;
        return CommandResult{};
      },
      [&] { ++published; });
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(published, 0);
}

// What the poster reads next (GET /v1/status) must show its change: the loop
// publishes once, after every command of the batch and before any answer.
TEST(CommandQueueTest, TheBatchIsPublishedBeforeAnyPosterIsAnswered) {
  CommandQueue queue;
  std::atomic<int> published{0};
  std::vector<int> published_when_answered(2, -1);
  std::vector<std::thread> posters;
  for (int i = 0; i < 2; ++i)
    posters.emplace_back([&, i] {
      queue.Post(Scale(i));
      published_when_answered[i] = published.load();
    });
  int applied = 0;
  int applied_when_published = -1;
  while (applied < 2) {
    WaitForWake(queue);
    queue.Drain(
        [&](const Command&) {
          ++applied;
          return CommandResult{202, "", "", 0};
        },
        [&] {
          applied_when_published = applied;
          ++published;
        });
  }
  for (std::thread& t : posters) t.join();
  EXPECT_EQ(applied_when_published, 2);
  EXPECT_GE(published.load(), 1);
  for (int seen : published_when_answered) EXPECT_GE(seen, 1);
}

TEST(CommandQueueTest, TheLoopNotTakingItInTimeIsA503) {
  CommandQueue queue(milliseconds(20));
  CommandResult answer = queue.Post(Scale(2));
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(answer.error, "busy");
  // The loop still applies it later; nobody waits for that answer.
  int applied = 0;
  queue.Drain(
      [&](const Command&) {
        ++applied;
        return CommandResult{};
      },
      [] {});
  EXPECT_EQ(applied, 1);
}

TEST(CommandQueueTest, ClosingAnswersTheWaitingAndEveryLaterPost) {
  CommandQueue queue;
  CommandResult waiting;
  std::thread control([&] { waiting = queue.Post(Scale(2)); });
  WaitForWake(queue);
  queue.Close();
  control.join();
  EXPECT_EQ(waiting.status, 503);
  EXPECT_EQ(queue.Post(Scale(3)).status, 503);
  int applied = 0;
  queue.Drain(
      [&](const Command&) {
        ++applied;
        return CommandResult{};
      },
      [] {});
  EXPECT_EQ(applied, 0);
}

TEST(CommandQueueTest, TheDefaultTimeoutIsThirtySeconds) {
  EXPECT_EQ(CommandQueue::kDefaultTimeout, milliseconds(30'000));
}

}  // namespace
}  // namespace wsgid
