#include "worker/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/log.h"

namespace wsgid {
namespace {

std::string_view HeaderOr(
    const std::vector<std::pair<std::string, std::string>>* headers,
    std::string_view name) {
  if (headers == nullptr) return "-";
  for (const auto& [n, v] : *headers)
    if (EqualsIgnoreCase(n, name)) return v;
  return "-";
}

std::string_view RequestHeaderOr(const RequestHead* head,
                                 std::string_view name) {
  const HeaderField* h = head->Find(name);
  return h ? h->value : std::string_view("-");
}

std::string Timestamp() {
  time_t now = ::time(nullptr);
  struct tm tm_now;
  ::localtime_r(&now, &tm_now);
  char buf[64];
  size_t n = ::strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S %z]", &tm_now);
  return std::string(buf, n);
}

// The atoms of the request's duration and the worker's pid; '-' for a letter
// no atom has.
void AppendTimingAtom(char atom, const AccessLogEntry& e, std::string* out) {
  switch (atom) {
    case 'T':
      *out += std::to_string(e.duration_us / 1000000);
      break;
    case 'M':
      *out += std::to_string(e.duration_us / 1000);
      break;
    case 'D':
      *out += std::to_string(e.duration_us);
      break;
    case 'L': {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6f",
                    static_cast<double>(e.duration_us) / 1e6);
      *out += buf;
      break;
    }
    case 'p':
      *out += "<" + std::to_string(::getpid()) + ">";
      break;
    default:
      *out += '-';
  }
}

// A {name}i (request header) or {name}o (response header) atom.
void AppendHeaderAtom(std::string_view atom, const AccessLogEntry& e,
                      std::string* out) {
  size_t end = atom.find('}');
  std::string_view name =
      atom.substr(1, end == std::string_view::npos ? 0 : end - 1);
  switch (atom.back()) {
    case 'i':
      *out += RequestHeaderOr(e.head, name);
      break;
    case 'o':
      *out += HeaderOr(e.response_headers, name);
      break;
    default:
      *out += '-';
  }
}

// A one-letter atom (the list is in access_log.h); '-' for an unknown one.
void AppendAtom(char atom, const AccessLogEntry& e, std::string* out) {
  std::string_view version =
      e.head->version_minor >= 1 ? "HTTP/1.1" : "HTTP/1.0";
  switch (atom) {
    case 'h':
      *out += e.conn->remote_addr.empty() ? "-" : e.conn->remote_addr;
      break;
    case 'l':
    case 'u':
      *out += '-';
      break;
    case 't':
      *out += Timestamp();
      break;
    case 'r':
      *out += e.head->method;
      *out += ' ';
      *out += e.head->target;
      *out += ' ';
      *out += version;
      break;
    case 'm':
      *out += e.head->method;
      break;
    case 'U':
      *out += e.head->path;
      break;
    case 'q':
      *out += e.head->query;
      break;
    case 'H':
      *out += version;
      break;
    case 's':
      *out += std::to_string(e.status);
      break;
    case 'B':
      *out += std::to_string(e.body_bytes);
      break;
    case 'b':
      *out += e.body_bytes > 0 ? std::to_string(e.body_bytes) : "-";
      break;
    case 'f':
      *out += RequestHeaderOr(e.head, "referer");
      break;
    case 'a':
      *out += RequestHeaderOr(e.head, "user-agent");
      break;
    default:
      AppendTimingAtom(atom, e, out);
  }
}

}  // namespace

Status AccessLog::Open(const std::string& path, std::string format) {
  format_ = std::move(format);
  path_ = path;
  if (path.empty()) {
    fd_ = -1;
    return Status::Ok();
  }
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    return Status::Ok();
  }
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot open access log " + path, errno);
  owned_.reset(fd);
  fd_ = fd;
  return Status::Ok();
}

std::string AccessLog::Format(const AccessLogEntry& e) const {
  std::string out;
  const std::string& f = format_;
  for (size_t i = 0; i < f.size(); ++i) {
    // An atom is %(x)s or %({name}i)s.
    if (f[i] != '%' || i + 1 >= f.size() || f[i + 1] != '(') {
      out += f[i];
      continue;
    }
    size_t close = f.find(")s", i + 2);
    if (close == std::string::npos) {
      out += f[i];
      continue;
    }
    std::string_view atom = std::string_view(f).substr(i + 2, close - i - 2);
    i = close + 1;
    if (atom.size() > 3 && atom.front() == '{')
      AppendHeaderAtom(atom, e, &out);
    else if (atom.size() == 1)
      AppendAtom(atom.front(), e, &out);
    else
      out += '-';
  }
  return out;
}

void AccessLog::Write(const AccessLogEntry& entry) const {
  if (fd_ < 0) return;
  std::string line = Format(entry) + "\n";
  // As WriteAll (one write(2) keeps lines whole across workers), but a failure
  // is noticed: the line is lost.
  size_t done = 0;
  int error = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (error == 0) return;
  lost_.fetch_add(1, std::memory_order_relaxed);
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now = ts.tv_sec;
  int64_t last = last_report_s_.load(std::memory_order_relaxed);
  // Once a minute at most (one thread wins the exchange): a full disk must not
  // turn every request into an error log line on the same full disk.
  constexpr int64_t kReportIntervalS = 60;
  if (last != 0 && now - last < kReportIntervalS) return;
  if (!last_report_s_.compare_exchange_strong(last, now)) return;
  uint64_t lost = lost_.exchange(0, std::memory_order_relaxed);
  Log(LogLevel::kError) << "access log " << path_
                        << ": write failed: " << std::strerror(error) << "; "
                        << lost << " line(s) lost (said at most once a minute)";
}

}  // namespace wsgid
