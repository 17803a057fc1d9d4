#include "daemon/hook_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/process_spawner.h"
#include "daemon/wait_status.h"

extern char** environ;

namespace wsgid {
namespace {

constexpr int64_t kFirstBackoffNs = kNsPerSec;
constexpr int64_t kMaxBackoffNs = 30 * kNsPerSec;
// A helper that lived this long before dying starts the back-off again.
constexpr int64_t kHealthyNs = 10 * kNsPerSec;

}  // namespace

HookHelper::HookHelper(std::string worker_path)
    : worker_path_(std::move(worker_path)) {}

HookHelper::~HookHelper() { Detach(); }

void HookHelper::Configure(const Config& config, int64_t now_ns) {
  config_ = config;
  wanted_ = !config.worker_hooks_file.empty();
  // The running helper finishes what it was written and leaves on EOF.
  Detach();
  backoff_ns_ = 0;
  if (wanted_) Start(now_ns);
}

void HookHelper::Start(int64_t now_ns) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return Lost(std::string("socketpair: ") + std::strerror(errno), now_ns);
  UniqueFd ours(fds[0]), theirs(fds[1]);
  ::fcntl(ours.get(), F_SETFL, O_NONBLOCK);
  Config helper = config_;
  helper.worker_hook_helper = true;
  helper.env.clear();  // to the environment, never the argv
  std::vector<std::string> args = ToArgs(helper, Needs::kBoth);
  args.insert(args.begin(), worker_path_);
  auto pid = SpawnProgram(std::move(args),
                          PlanWorkerEnvironment(::environ, config_.env),
                          {{theirs.get(), 0}});
  if (!pid.ok()) return Lost(pid.status().message(), now_ns);
  socket_ = std::move(ours);
  pid_ = *pid;
  started_ns_ = now_ns;
  Log(LogLevel::kInfo) << "hook helper started (pid " << pid_ << ") for "
                       << config_.worker_hooks_file;
}

void HookHelper::Detach() {
  socket_.reset();
  if (pid_ != 0) retired_.insert(pid_);
  pid_ = 0;
  written_ = 0;
  unanswered_ = 0;
  answer_.clear();
  for (int k = 0; k < kLogCounterCount; ++k) {
    retired_logs_[k] += logs_[k];
    logs_[k] = 0;
  }
}

void HookHelper::Lost(const std::string& why, int64_t now_ns) {
  if (unanswered_ > 0 || written_ > 0)
    Log(LogLevel::kWarning) << "hook helper: " << unanswered_ + (written_ > 0)
                            << " hook event(s) lost with it";
  if (written_ > 0) queue_.pop_front();  // a line half written is lost too
  Detach();
  backoff_ns_ = now_ns - started_ns_ >= kHealthyNs || backoff_ns_ == 0
                    ? kFirstBackoffNs
                    : std::min(kMaxBackoffNs, 2 * backoff_ns_);
  restart_at_ns_ = now_ns + backoff_ns_;
  Log(LogLevel::kError) << "hook helper: " << why << "; starting it again in "
                        << backoff_ns_ / kNsPerSec << " s";
}

void HookHelper::Send(std::string line) {
  if (queue_.size() + unanswered_ >= kMaxBehind) {
    if (dropped_++ == 0)
      Log(LogLevel::kWarning) << "hook helper is " << kMaxBehind
                              << " events behind: dropping hook events";
    return;
  }
  if (dropped_ > 0) {
    Log(LogLevel::kWarning)
        << "hook helper: " << dropped_ << " hook event(s) were dropped";
    dropped_ = 0;
  }
  line += '\n';
  queue_.push_back(std::move(line));
}

bool HookHelper::WriteQueued() {
  while (!queue_.empty()) {
    const std::string& line = queue_.front();
    ssize_t n = ::send(socket_.get(), line.data() + written_,
                       line.size() - written_, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    written_ += static_cast<size_t>(n);
    if (written_ < line.size()) return true;
    queue_.pop_front();
    written_ = 0;
    ++unanswered_;
  }
  return true;
}

bool HookHelper::ReadAnswers() {
  char buf[512];
  while (true) {
    ssize_t n = ::recv(socket_.get(), buf, sizeof buf, 0);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    answer_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = answer_.find('\n', start)) != std::string::npos;
         start = nl + 1)
      OnAnswer(answer_.substr(start, nl - start));
    answer_.erase(0, start);
    if (answer_.size() > sizeof buf) answer_.clear();  // not an answer
  }
}

void HookHelper::OnAnswer(const std::string& line) {
  if (unanswered_ > 0) --unanswered_;
  // The helper's word only: counts that would go down are ignored.
  std::istringstream in(line);
  std::string done;
  uint64_t counts[kLogCounterCount];
  in >> done;
  for (uint64_t& c : counts)
    if (!(in >> c)) return;
  for (int k = 0; k < kLogCounterCount; ++k)
    logs_[k] = std::max(logs_[k], counts[k]);
}

uint64_t HookHelper::LogRecords(LogCounter counter) const {
  int k = static_cast<int>(counter);
  return retired_logs_[k] + logs_[k];
}

void HookHelper::Pump(int64_t now_ns) {
  if (!socket_.valid()) {
    if (wanted_ && pid_ == 0 && now_ns >= restart_at_ns_) Start(now_ns);
    return;
  }
  if (!WriteQueued() || !ReadAnswers())
    Lost("its socket closed (pid " + std::to_string(pid_) + ")", now_ns);
}

bool HookHelper::OnReaped(pid_t pid, int wait_status, int64_t now_ns) {
  if (retired_.erase(pid) > 0) return true;
  if (pid != pid_ || pid == 0) return false;
  Lost("pid " + std::to_string(pid) + " exited (" +
           DescribeWaitStatus(wait_status) + ")",
       now_ns);
  return true;
}

bool HookHelper::Drain(int64_t deadline_ns) {
  while (socket_.valid()) {
    Pump(MonotonicNs());
    if (!socket_.valid()) break;
    if (queue_.empty() && unanswered_ == 0) return true;
    int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) break;
    pollfd p{socket_.get(),
             static_cast<short>(POLLIN | (queue_.empty() ? 0 : POLLOUT)), 0};
    ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 100)));
  }
  return false;
}

}  // namespace wsgid
