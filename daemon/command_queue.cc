#include "daemon/command_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace wsgid {
namespace {

CommandResult Busy() {
  return {503, "busy", "the supervisor did not take the command in time", 0};
}

CommandResult Stopping() {
  return {503, "busy", "the supervisor is shutting down", 0};
}

}  // namespace

CommandQueue::CommandQueue(std::chrono::milliseconds timeout)
    : timeout_(timeout), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

CommandResult CommandQueue::Post(const Command& command) {
  std::future<CommandResult> result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Stopping();
    pending_.emplace_back(command, std::promise<CommandResult>());
    result = pending_.back().second.get_future();
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
  // A command answered late still runs: its promise stays in the queue, and
  // setting a value nobody waits for is harmless.
  if (result.wait_for(timeout_) != std::future_status::ready) return Busy();
  return result.get();
}

void CommandQueue::Drain(const Applier& apply,
                         const std::function<void()>& publish) {
  uint64_t count;
  (void)!::read(wake_fd_.get(), &count, sizeof count);
  std::deque<Pending> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  std::vector<CommandResult> results;
  results.reserve(batch.size());
  for (auto& pending : batch) results.push_back(apply(pending.first));
  publish();
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].second.set_value(std::move(results[i]));
}

void CommandQueue::Close() {
  std::deque<Pending> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    batch.swap(pending_);
  }
  for (auto& pending : batch) pending.second.set_value(Stopping());
}

}  // namespace wsgid
