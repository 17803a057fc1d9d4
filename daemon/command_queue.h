// CommandQueue: how a change asked for through the control API reaches the
// supervisor loop. A control thread posts a Command and waits for its
// CommandResult; the loop, woken through an eventfd, applies the queued
// commands between its other events, so the pool is only ever touched by the
// loop's thread.
//
// Thread safety: Post() from any thread; wake_fd(), Drain() and Close() from
// the loop's thread only. The queue owns its eventfd.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <utility>

#include "common/unique_fd.h"
#include "daemon/control_backend.h"

namespace wsgid {

class CommandQueue {
 public:
  // Applies one command on the loop's thread and says how it went.
  using Applier = std::function<CommandResult(const Command&)>;

  // How long a poster waits for the loop: past it the answer is 503.
  static constexpr std::chrono::milliseconds kDefaultTimeout{30'000};

  explicit CommandQueue(std::chrono::milliseconds timeout = kDefaultTimeout);

  // Queues `command`, wakes the loop and blocks until the loop applied it (or
  // the timeout passed, or the queue was closed: 503 either way).
  CommandResult Post(const Command& command);

  // Readable while commands wait: the loop polls it.
  int wake_fd() const { return wake_fd_.get(); }
  // Applies every queued command, oldest first; then, when there was any,
  // calls `publish` (the loop makes its status snapshot show the changes);
  // then answers the posters. So a client that got its answer and reads the
  // status next sees what it asked for (`wsgictl scale 3; wsgictl
  // wait-ready` never reads the count from before the scale).
  void Drain(const Applier& apply, const std::function<void()>& publish);
  // The loop is going away: answers what waits, and every later Post, with 503.
  void Close();

 private:
  using Pending = std::pair<Command, std::promise<CommandResult>>;

  const std::chrono::milliseconds timeout_;
  UniqueFd wake_fd_;  // eventfd
  std::mutex mu_;
  std::deque<Pending> pending_;  // guarded by mu_
  bool closed_ = false;          // guarded by mu_
};

}  // namespace wsgid
