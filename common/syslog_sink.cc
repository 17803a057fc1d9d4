#include "common/syslog_sink.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace wsgid {
namespace {

struct ParsedAddress {
  std::string scheme;  // udp, tcp, unix
  std::string host_or_path;
  std::string port;
};

StatusOr<ParsedAddress> ParseAddress(const std::string& address) {
  ParsedAddress p;
  size_t colon = address.find(':');
  if (colon == std::string::npos)
    return Status::InvalidArgument("syslog address '" + address +
                                   "' has no scheme (udp://, tcp://, unix://)");
  p.scheme = address.substr(0, colon);
  std::string rest = address.substr(colon + 1);
  if (rest.rfind("//", 0) == 0) rest.erase(0, 2);
  if (p.scheme == "unix") {
    p.host_or_path = rest;
    if (rest.empty() || rest.size() >= sizeof(sockaddr_un{}.sun_path))
      return Status::InvalidArgument("syslog socket path '" + rest +
                                     "' is empty or too long");
    return p;
  }
  if (p.scheme != "udp" && p.scheme != "tcp")
    return Status::InvalidArgument("syslog address '" + address +
                                   "': scheme must be udp, tcp or unix");
  size_t port_colon = rest.rfind(':');
  p.host_or_path = rest.substr(0, port_colon);
  p.port =
      port_colon == std::string::npos ? "514" : rest.substr(port_colon + 1);
  if (p.host_or_path.size() > 1 && p.host_or_path.front() == '[')
    p.host_or_path = p.host_or_path.substr(1, p.host_or_path.size() - 2);
  if (p.host_or_path.empty())
    return Status::InvalidArgument("syslog address '" + address +
                                   "' has no host");
  return p;
}

StatusOr<UniqueFd> ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  // A datagram socket as syslogd's /dev/log; a stream one as a fallback, as
  // Python's SysLogHandler does.
  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (fd.valid() && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr),
                                sizeof addr) == 0)
      return fd;
  }
  return Status::FromErrno("cannot connect to syslog socket " + path, errno);
}

StatusOr<UniqueFd> ConnectInet(const ParsedAddress& p) {
  addrinfo hints{};
  hints.ai_socktype = p.scheme == "tcp" ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rc =
      ::getaddrinfo(p.host_or_path.c_str(), p.port.c_str(), &hints, &found);
  if (rc != 0)
    return Status::Unavailable("cannot resolve syslog host " + p.host_or_path +
                               ": " + ::gai_strerror(rc));
  int error = ECONNREFUSED;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0));
    if (fd.valid() && ::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    error = errno;
  }
  ::freeaddrinfo(found);
  return Status::FromErrno("cannot connect to syslog at " + p.scheme + "://" +
                               p.host_or_path + ":" + p.port,
                           error);
}

}  // namespace

StatusOr<int> ParseSyslogFacility(const std::string& name) {
  static const std::pair<const char*, int> kFacilities[] = {
      {"kern", 0},    {"user", 1},     {"mail", 2},    {"daemon", 3},
      {"auth", 4},    {"security", 4}, {"syslog", 5},  {"lpr", 6},
      {"news", 7},    {"uucp", 8},     {"cron", 9},    {"authpriv", 10},
      {"ftp", 11},    {"local0", 16},  {"local1", 17}, {"local2", 18},
      {"local3", 19}, {"local4", 20},  {"local5", 21}, {"local6", 22},
      {"local7", 23}};
  for (const auto& [n, code] : kFacilities)
    if (name == n) return code;
  return Status::InvalidArgument("unknown syslog facility '" + name +
                                 "' (user, daemon, local0...local7, ...)");
}

Status CheckSyslogAddress(const std::string& address) {
  return ParseAddress(address).status();
}

StatusOr<std::unique_ptr<SyslogSink>> SyslogSink::Open(
    const std::string& address, const std::string& facility,
    const std::string& prefix) {
  auto parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  auto code = ParseSyslogFacility(facility);
  if (!code.ok()) return code.status();
  auto fd = parsed->scheme == "unix" ? ConnectUnix(parsed->host_or_path)
                                     : ConnectInet(*parsed);
  if (!fd.ok()) return fd.status();
  auto sink = std::unique_ptr<SyslogSink>(new SyslogSink());
  sink->fd_ = std::move(fd).value();
  sink->stream_ = parsed->scheme == "tcp";
  sink->facility_ = *code;
  std::string tag = prefix.empty() ? "wsgid" : "wsgid." + prefix;
  sink->error_tag_ = tag + ".error";
  sink->access_tag_ = tag + ".access";
  return sink;
}

std::string SyslogSink::Format(int facility, LogLevel level,
                               std::string_view tag, int pid,
                               std::string_view message) {
  // RFC 5424 severities: critical 2, error 3, warning 4, info 6, debug 7.
  static const int kSeverity[] = {7, 6, 4, 3, 2};
  int priority = facility * 8 + kSeverity[static_cast<int>(level)];
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  std::string out = "<" + std::to_string(priority) + ">";
  out += tag;
  out += ": [";
  out += std::to_string(pid);
  out += "] [";
  out += LevelName(level);
  out += "] ";
  out += message;
  return out;
}

void SyslogSink::Send(LogLevel level, std::string_view tag,
                      std::string_view message) {
  std::string datagram =
      Format(facility_, level, tag, static_cast<int>(::getpid()), message);
  if (stream_) datagram += '\n';
  (void)::send(fd_.get(), datagram.data(), datagram.size(),
               MSG_DONTWAIT | MSG_NOSIGNAL);
}

void SyslogSink::SendError(LogLevel level, std::string_view message) {
  Send(level, error_tag_, message);
}

void SyslogSink::SendAccess(std::string_view line) {
  Send(LogLevel::kInfo, access_tag_, line);
}

}  // namespace wsgid
