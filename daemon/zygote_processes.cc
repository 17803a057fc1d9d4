#include "daemon/zygote_processes.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/log.h"

namespace wsgid {
namespace {

// Sends "fork <id> <age>" with `fd` attached.
Status SendOrder(int channel, const ZygoteProcesses::ForkRequest& request,
                 int fd) {
  std::string text =
      "fork " + std::to_string(request.id) + " " + std::to_string(request.age);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec io{text.data(), text.size()};
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (::sendmsg(channel, &msg, MSG_NOSIGNAL) < 0)
    return Status::FromErrno("preload: fork request", errno);
  return Status::Ok();
}

// One packet from the zygote, waiting at most `timeout_ms`; empty at EOF or
// timeout.
std::string Receive(int channel, int timeout_ms) {
  pollfd p{channel, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return "";
  char buf[512];
  ssize_t n = ::recv(channel, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A fork request's answer: "pid <N> <fork ns>", or why there is none.
StatusOr<SpawnedWorker> ParseForkAnswer(pid_t zygote,
                                        const std::string& answer) {
  if (answer.rfind("pid ", 0) != 0)
    return Status::Unavailable(
        "preload: the zygote (pid " + std::to_string(zygote) +
        ") did not fork: " + (answer.empty() ? "no answer" : answer));
  SpawnedWorker forked;
  char* end = nullptr;
  forked.pid = static_cast<pid_t>(std::strtol(answer.c_str() + 4, &end, 10));
  forked.started_ns = std::strtoll(end, nullptr, 10);
  if (forked.pid <= 0 || forked.started_ns <= 0)
    return Status::Unavailable("preload: bad answer " + answer);
  return forked;
}

}  // namespace

ZygoteProcesses::ZygoteProcesses(std::string worker_path, const Config* config,
                                 const ListenerSet* listeners,
                                 const WorkerSlots* slots)
    : worker_path_(std::move(worker_path)),
      config_(config),
      listeners_(listeners),
      slots_(slots) {}

StatusOr<pid_t> ZygoteProcesses::StartZygote(int generation) {
  if (!subreaper_) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
      return Status::FromErrno("PR_SET_CHILD_SUBREAPER", errno);
    subreaper_ = true;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return Status::FromErrno("socketpair", errno);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  Config config = *config_;
  config.worker_zygote = true;
  auto pid =
      SpawnWorkerWithChannel(worker_path_, config, /*id=*/0, listeners_->fds(),
                             slots_->fd(), theirs.get());
  if (!pid.ok()) return pid.status();
  (void)generation;  // the generation is the configuration's at this moment
  channels_[*pid] = std::move(ours);
  return *pid;
}

void ZygoteProcesses::Signal(pid_t pid, int sig) { ::kill(pid, sig); }

std::optional<Preloader::Report> ZygoteProcesses::ReadReport(pid_t pid) {
  auto it = channels_.find(pid);
  if (it == channels_.end()) return std::nullopt;
  std::string text = Receive(it->second.get(), 0);
  if (text.empty()) {
    channels_.erase(it);
    return std::nullopt;
  }
  if (text == "ready") return Preloader::Report::kReady;
  if (text.rfind("unsafe", 0) == 0) return Preloader::Report::kUnsafe;
  Log(LogLevel::kWarning) << "preload: zygote (pid " << pid
                          << ") said: " << text;
  return std::nullopt;
}

std::vector<StatusOr<SpawnedWorker>> ZygoteProcesses::ForkBatch(
    pid_t zygote, const std::vector<ForkRequest>& requests) {
  std::vector<StatusOr<SpawnedWorker>> results;
  auto it = channels_.find(zygote);
  if (it == channels_.end()) {
    for (size_t i = 0; i < requests.size(); ++i)
      results.push_back(
          Status::Unavailable("preload: the zygote's channel is closed"));
    return results;
  }
  int channel = it->second.get();
  std::vector<UniqueFd> read_ends;  // of the requests sent
  Status sent = Status::Ok();
  for (const ForkRequest& request : requests) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) {
      sent = Status::FromErrno("pipe2", errno);
      break;
    }
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    // The worker holds the write end once forked: EOF once it exits.
    if (sent = SendOrder(channel, request, write_end.get()); !sent.ok()) break;
    read_ends.push_back(std::move(read_end));
  }
  // One answer per request, in order ("error" included). After one that
  // does not come, any later one would be out of step: the rest fail (and
  // the zygote is replaced).
  bool answered = true;
  for (UniqueFd& read_end : read_ends) {
    std::string answer = answered ? Receive(channel, kForkReplyMs) : "";
    auto forked = answered ? ParseForkAnswer(zygote, answer)
                           : Status::Unavailable(
                                 "preload: an earlier fork of the batch got "
                                 "no answer");
    answered = answered && !answer.empty();
    if (forked.ok()) forked->ready_pipe = std::move(read_end);
    results.push_back(std::move(forked));
  }
  while (results.size() < requests.size()) results.push_back(sent);
  return results;
}

}  // namespace wsgid
