// HookHelper: the HookChannel on the real OS. It starts `wsgid-worker
// --worker-hook-helper` (worker/hook_helper.h) with every setting of the
// running configuration on its command line, the -e values in its
// environment, and one end of a socketpair as its fd 0, and feeds it one JSON
// line per event; the helper answers "done" per event once its hook returned.
//
// It never blocks the loop: the socket is non-blocking, what the helper has
// not taken waits in a queue, and once kMaxBehind events are queued or
// unanswered, new ones are dropped with a warning (a helper stuck in a hook
// costs hooks, never supervision). A helper that dies is logged and started
// again after a back-off (1 s, doubling to 30 s while it keeps dying young);
// the events it had not answered are lost and counted in the log.
//
// Loop thread only; spawn from the loop's thread (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <set>
#include <string>

#include "common/unique_fd.h"
#include "daemon/hook_channel.h"

namespace wsgid {

class HookHelper : public HookChannel {
 public:
  // The events queued or unanswered beyond which new ones are dropped.
  static constexpr size_t kMaxBehind = 1000;

  // `worker_path`: the wsgid-worker executable.
  explicit HookHelper(std::string worker_path);
  // Closes the socket: the helper leaves once it has read the rest.
  ~HookHelper() override;

  void Configure(const Config& config, int64_t now_ns) override;
  void Send(std::string line) override;
  void Pump(int64_t now_ns) override;
  bool OnReaped(pid_t pid, int wait_status, int64_t now_ns) override;
  bool Drain(int64_t deadline_ns) override;
  // Each answer is "done" and the helper's counts of its records so far, by
  // LogCounter ("done W E C X"): the last one heard of each helper counts.
  uint64_t LogRecords(LogCounter counter) const override;

  // The running helper's pid (0: none).
  pid_t pid() const { return pid_; }
  // Events queued or written and not yet answered.
  size_t behind() const { return queue_.size() + unanswered_; }

 private:
  void Start(int64_t now_ns);
  // Forgets the running helper (it leaves on EOF); `pid_` becomes retired.
  void Detach();
  // The helper is gone: its unanswered events are lost; restart later.
  void Lost(const std::string& why, int64_t now_ns);
  // Writes queued lines; false when the socket failed.
  bool WriteQueued();
  // Reads answers; false on EOF or an error.
  bool ReadAnswers();
  // One answer line, without its newline.
  void OnAnswer(const std::string& line);

  std::string worker_path_;
  Config config_;  // the configuration the helper runs with
  bool wanted_ = false;
  UniqueFd socket_;
  pid_t pid_ = 0;
  std::set<pid_t> retired_;        // helpers detached by a reload or a loss
  std::deque<std::string> queue_;  // lines with their '\n', not yet written
  size_t written_ = 0;             // bytes of queue_.front() already written
  size_t unanswered_ = 0;          // lines written and not yet answered
  std::string answer_;             // the start of an answer line
  uint64_t logs_[kLogCounterCount] = {};          // the running helper's
  uint64_t retired_logs_[kLogCounterCount] = {};  // helpers gone before it
  size_t dropped_ = 0;  // since the last warning about it
  int64_t started_ns_ = 0;
  int64_t restart_at_ns_ = 0;
  int64_t backoff_ns_ = 0;
};

}  // namespace wsgid
