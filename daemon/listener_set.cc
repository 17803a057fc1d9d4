#include "daemon/listener_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "common/listener.h"
#include "common/log.h"
#include "daemon/proc_stats.h"

namespace wsgid {
namespace {

class KernelSocketOps : public SocketOps {
 public:
  explicit KernelSocketOps(bool reuse_port) : reuse_port_(reuse_port) {}
  StatusOr<UniqueFd> Open(const std::string& bind, int backlog) override {
    auto address = ParseBindAddress(bind);
    if (!address.ok()) return address.status();
    return OpenListener(*address, backlog, reuse_port_);
  }
  void Adopt(int fd) override {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  std::string Describe(int fd) override { return DescribeSocket(fd); }
  int64_t QueueLength(int fd) override { return ListenQueueLength(fd); }

 private:
  bool reuse_port_;  // --reuse-port
};

}  // namespace

SocketOps* SystemSocketOps(bool reuse_port) {
  static KernelSocketOps ops(false), reusing_ops(true);
  return reuse_port ? &reusing_ops : &ops;
}

std::optional<int> InheritedListenerCount(const char* listen_fds,
                                          const char* listen_pid, pid_t self) {
  if (listen_fds == nullptr || listen_pid == nullptr) return std::nullopt;
  if (std::atoi(listen_pid) != self) return std::nullopt;
  return std::max(0, std::atoi(listen_fds));
}

Status OpenStartListeners(ListenerSet* set, std::vector<std::string>* binds,
                          int backlog) {
  std::optional<int> inherited = InheritedListenerCount(
      ::getenv("LISTEN_FDS"), ::getenv("LISTEN_PID"), ::getpid());
  if (inherited) {
    set->Adopt(*inherited, *binds);
    for (const char* name : {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"})
      ::unsetenv(name);
  } else {
    if (binds->empty()) binds->push_back("127.0.0.1:8000");
    if (Status s = set->Open(*binds, backlog); !s.ok()) return s;
  }
  for (const std::string& name : set->names())
    Log(LogLevel::kInfo) << "Listening at: " << name;
  return Status::Ok();
}

void ListenerSet::Adopt(int count, const std::vector<std::string>& binds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd = 3; fd < 3 + count; ++fd) {
    ops_->Adopt(fd);
    std::string name = ops_->Describe(fd);
    size_t i = static_cast<size_t>(fd - 3);
    std::string bind = i < binds.size() ? binds[i] : name;
    listeners_.push_back({bind, name, UniqueFd(fd)});
  }
}

Status ListenerSet::Open(const std::vector<std::string>& binds, int backlog) {
  // Plan first, opening what is new: a failure then leaves the set untouched.
  // Each bind keeps the first open socket of that bind not already taken.
  std::vector<bool> taken(listeners_.size(), false);
  std::vector<std::pair<int, UniqueFd>> plan;  // (kept index or -1, new fd)
  for (const std::string& bind : binds) {
    int kept = -1;
    for (size_t i = 0; i < listeners_.size() && kept < 0; ++i)
      if (!taken[i] && listeners_[i].bind == bind) kept = static_cast<int>(i);
    if (kept >= 0) {
      taken[static_cast<size_t>(kept)] = true;
      plan.emplace_back(kept, UniqueFd());
      continue;
    }
    auto fd = ops_->Open(bind, backlog);
    if (!fd.ok()) return fd.status();
    plan.emplace_back(-1, std::move(fd).value());
  }
  std::lock_guard<std::mutex> lock(mu_);  // the moves below race readers
  std::vector<Listener> next;
  for (size_t i = 0; i < binds.size(); ++i) {
    auto& [kept, fd] = plan[i];
    if (kept >= 0) {
      next.push_back(std::move(listeners_[static_cast<size_t>(kept)]));
    } else {
      std::string name = ops_->Describe(fd.get());
      next.push_back({binds[i], name, std::move(fd)});
    }
  }
  for (size_t i = 0; i < listeners_.size(); ++i)
    if (!taken[i])
      Log(LogLevel::kInfo) << "Closing listener " << listeners_[i].name;
  listeners_ = std::move(next);
  return Status::Ok();
}

size_t ListenerSet::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listeners_.size();
}

std::vector<int> ListenerSet::fds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int> fds;
  for (const Listener& l : listeners_) fds.push_back(l.fd.get());
  return fds;
}

std::vector<std::string> ListenerSet::names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const Listener& l : listeners_) names.push_back(l.name);
  return names;
}

std::vector<std::pair<std::string, int64_t>> ListenerSet::QueueLengths() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, int64_t>> queues;
  for (const Listener& l : listeners_)
    queues.emplace_back(l.name, ops_->QueueLength(l.fd.get()));
  return queues;
}

int64_t ListenerSet::TotalQueueLength() const {
  int64_t total = 0;
  for (const auto& [name, queue] : QueueLengths()) total += queue;
  return total;
}

}  // namespace wsgid
