// What the HTTP threads reach: the latest snapshot, the scoreboard, and the
// command queue (the test plays the loop).
#include "daemon/loop_backend.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <thread>

namespace wsgid {
namespace {

class LoopBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto board = Scoreboard::Create(2);
    ASSERT_TRUE(board.ok());
    slots_ = std::make_unique<WorkerSlots>(std::move(board).value());
    backend_ =
        std::make_unique<LoopBackend>(&snapshots_, slots_.get(), &commands_);
  }

  SnapshotPublisher snapshots_;
  CommandQueue commands_;
  std::unique_ptr<WorkerSlots> slots_;
  std::unique_ptr<LoopBackend> backend_;
};

TEST_F(LoopBackendTest, ReadsTheLatestSnapshotAndTheScoreboard) {
  PoolSnapshot s;
  s.desired = 3;
  snapshots_.Publish(s);
  EXPECT_EQ(backend_->Snapshot().desired, 3);
  slots_->Claim(1, 1, 1);
  slots_->slot(1).bytes_out.store(42);
  EXPECT_EQ(backend_->Totals().bytes_out, 42u);
  EXPECT_EQ(backend_->Slot(1), &slots_->slot(1));
  EXPECT_EQ(backend_->Slot(3), nullptr);
}

TEST_F(LoopBackendTest, ExecuteWaitsForTheLoopsAnswer) {
  CommandResult answer;
  std::thread control([&] {
    Command c{Command::Kind::kScale};
    c.value = 5;
    answer = backend_->Execute(c);
  });
  pollfd fd{commands_.wake_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 10'000), 1);
  commands_.Drain(
      [](const Command& c) {
        return CommandResult{200, "", "", c.value};
      },
      [] {});
  control.join();
  EXPECT_EQ(answer.value, 5);
}

}  // namespace
}  // namespace wsgid
