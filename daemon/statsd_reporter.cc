#include "daemon/statsd_reporter.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/unique_fd.h"

namespace wsgid {
namespace {

class SocketSender : public DatagramSender {
 public:
  explicit SocketSender(UniqueFd fd) : fd_(std::move(fd)) {}
  void Send(const std::string& payload) override {
    ::send(fd_.get(), payload.data(), payload.size(), MSG_DONTWAIT);
  }

 private:
  UniqueFd fd_;
};

StatusOr<UniqueFd> ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Status::InvalidArgument("--statsd-host: path too long: " + path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Status::FromErrno("--statsd-host " + path, errno);
  return fd;
}

StatusOr<UniqueFd> ConnectUdp(const std::string& address) {
  std::string host = address, port = "8125";
  size_t colon = address.rfind(':');
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos)
      return Status::InvalidArgument("--statsd-host: bad address " + address);
    host = address.substr(1, close - 1);
    if (close + 1 < address.size() && address[close + 1] == ':')
      port = address.substr(close + 2);
  } else if (colon != std::string::npos) {
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
      rc != 0)
    return Status::InvalidArgument("--statsd-host " + address + ": " +
                                   ::gai_strerror(rc));
  UniqueFd fd(::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  int rc =
      fd.valid() ? ::connect(fd.get(), found->ai_addr, found->ai_addrlen) : -1;
  int err = errno;
  ::freeaddrinfo(found);
  if (rc < 0) return Status::FromErrno("--statsd-host " + address, err);
  return fd;
}

uint64_t Sum(const RequestTotals& t, int code) {
  uint64_t n = 0;
  for (int m = 0; m < kMethodCount; ++m) n += t.responses[m][code];
  return n;
}

}  // namespace

StatusOr<std::unique_ptr<DatagramSender>> OpenStatsdSender(
    const std::string& address) {
  auto fd =
      address.rfind("unix:", 0) == 0
          ? ConnectUnix(address.substr(address.rfind("//", 7) == 5 ? 7 : 5))
          : ConnectUdp(address);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<DatagramSender>(
      new SocketSender(std::move(fd).value()));
}

StatsdReporter::StatsdReporter(std::unique_ptr<DatagramSender> sender,
                               const std::string& prefix, std::string tags,
                               int64_t interval_ns)
    : sender_(std::move(sender)),
      prefix_(prefix.empty() || prefix.back() == '.' ? prefix : prefix + "."),
      tags_(std::move(tags)),
      interval_ns_(interval_ns) {}

void StatsdReporter::Tick(int64_t now_ns, const RequestTotals& totals,
                          int workers) {
  if (!primed_) {
    primed_ = true;
    last_ = totals;
    last_flush_ns_ = now_ns;
    return;
  }
  if (now_ns - last_flush_ns_ >= interval_ns_) Flush(now_ns, totals, workers);
}

void StatsdReporter::Flush(int64_t now_ns, const RequestTotals& totals,
                           int workers) {
  for (const std::string& line : Lines(totals, workers)) sender_->Send(line);
  last_ = totals;
  last_flush_ns_ = now_ns;
  primed_ = true;
}

std::vector<std::string> StatsdReporter::Lines(const RequestTotals& totals,
                                               int workers) const {
  std::string tags = tags_.empty() ? "" : "|#" + tags_;
  std::vector<std::string> lines;
  uint64_t requests = 0;
  for (int code = 0; code < kCodeCount; ++code) {
    uint64_t n = Sum(totals, code) - Sum(last_, code);
    if (n == 0) continue;
    requests += n;
    lines.push_back(prefix_ + "gunicorn.request.status." + CodeLabel(code) +
                    ":" + std::to_string(n) + "|c|@1.0" + tags);
  }
  if (requests > 0) {
    lines.insert(lines.begin(),
                 prefix_ + "gunicorn.requests:" + std::to_string(requests) +
                     "|c|@1.0" + tags);
    uint64_t us = totals.latency_sum_us - last_.latency_sum_us;
    char ms[32];
    std::snprintf(
        ms, sizeof ms, "%.3f",
        static_cast<double>(us) / 1000.0 / static_cast<double>(requests));
    lines.push_back(prefix_ + "gunicorn.request.duration:" + ms + "|ms" + tags);
  }
  for (int k = 0; k < kLogCounterCount; ++k) {
    uint64_t n = totals.log_records[k] - last_.log_records[k];
    if (n == 0) continue;
    lines.push_back(prefix_ + "gunicorn.log." +
                    LogCounterName(static_cast<LogCounter>(k)) + ":" +
                    std::to_string(n) + "|c|@1.0" + tags);
  }
  lines.push_back(prefix_ + "gunicorn.workers:" + std::to_string(workers) +
                  "|g" + tags);
  return lines;
}

}  // namespace wsgid
