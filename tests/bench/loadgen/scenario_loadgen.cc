// scenario_loadgen: a closed-loop HTTP/1.1 load generator whose concurrency
// changes per phase, recording every request.
//
//   scenario_loadgen --port P --path /io [--path /cpu ...] --phase N:SECONDS ...
//                    --out FILE [--host 127.0.0.1] [--timeout S] [--threads T]
//
// N keep-alive connections each send a GET, wait for the whole response, and
// send the next one at once (no think time). At a phase boundary connections are
// opened (step up) or retired after their current request (step down). The
// paths are used in turn, one per request across all connections (two paths:
// half and half). A connection the server closes (Connection: close, or a
// keep-alive connection closed before any byte of the answer came back) is
// reopened; the connect time counts in the next request's latency. A request
// that finds its reused connection closed before any byte of the answer is sent
// again once on a new connection (what HTTP clients do for idempotent
// requests): counted as a retry, not an error.
//
// Every request is recorded as a 16-byte little-endian record:
//   double start (s since the generator's t0, CLOCK_MONOTONIC),
//   float latency (s), uint8 result (0 ok = 2xx; 1 connect failed; 2 closed or
//   reset; 3 non-2xx status; 4 timeout; 5 malformed answer), uint8 path index,
//   uint16 phase index.
// At the end (after the last phase, requests in flight are waited for up to the
// timeout) the records go to --out and a JSON summary to stdout (per phase:
// requests, errors, retries; the generator's CPU time; t0 as CLOCK_MONOTONIC
// seconds, so the caller can align its own samples).
//
// --threads T spreads the connections over T event loops (default 1: one loop
// drives about 40,000 req/s on loopback, see tests/bench/README.md).
// Built by tests/bench/scenario.py with g++ -O2 (no dependencies).

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#pragma pack(push, 1)
struct Record {
  double start;
  float latency;
  uint8_t result;
  uint8_t path;
  uint16_t phase;
};
#pragma pack(pop)
static_assert(sizeof(Record) == 16, "record layout");

enum Result : uint8_t {
  kOk = 0,
  kConnect = 1,
  kClosed = 2,
  kStatus = 3,
  kTimeout = 4,
  kMalformed = 5
};

struct Phase {
  int clients;
  double seconds;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> paths;
  std::vector<Phase> phases;
  std::string out;
  double timeout = 30;
  int threads = 1;
};

Options g_opt;
double g_t0 = 0;
std::atomic<uint64_t> g_path_counter{0};
std::vector<double> g_phase_start;  // absolute monotonic seconds
double g_end = 0;                   // end of the last phase

enum class State { kIdle, kConnecting, kSending, kReading, kBackoff };

struct Conn {
  int fd = -1;
  State state = State::kIdle;
  bool active = false;    // wanted by the current phase
  bool retiring = false;  // close after the current request
  double req_start = 0;   // when this request started (connect included)
  double deadline = 0;    // request timeout or end of back-off
  double backoff_until = 0;
  int reqs_on_conn = 0;   // completed requests on this fd
  bool retried = false;   // this request was already sent again once
  bool got_bytes = false;
  uint8_t path = 0;
  uint16_t phase = 0;
  std::string out;        // request bytes to send
  size_t sent = 0;
  std::string in;         // response bytes so far
};

struct Loop {
  int epfd = -1;
  int index = 0;
  std::vector<Conn> conns;
  std::vector<Record> records;
  std::vector<uint64_t> retries;  // per phase
  int current_phase = -1;

  void Record_(Conn& c, uint8_t result, double now) {
    records.push_back(Record{c.req_start - g_t0,
                             static_cast<float>(now - c.req_start), result,
                             c.path, c.phase});
  }

  void CloseFd(Conn& c) {
    if (c.fd >= 0) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c.fd = -1;
    c.reqs_on_conn = 0;
  }

  void Watch(Conn& c, uint32_t events, bool add) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = static_cast<uint32_t>(&c - conns.data());
    epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Opens the socket (non-blocking connect); false on an immediate failure.
  bool Connect(Conn& c) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(g_opt.port));
    inet_pton(AF_INET, g_opt.host.c_str(), &sa.sin_addr);
    int r = connect(c.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    if (r < 0 && errno != EINPROGRESS) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    c.reqs_on_conn = 0;
    c.state = r == 0 ? State::kSending : State::kConnecting;
    Watch(c, EPOLLOUT, true);
    return true;
  }

  // Starts (or restarts, keeping its start time) the current request.
  void Send(Conn& c, double now, bool fresh) {
    if (fresh) {
      c.req_start = now;
      c.deadline = now + g_opt.timeout;
      c.retried = false;
      uint64_t n = g_path_counter.fetch_add(1, std::memory_order_relaxed);
      c.path = static_cast<uint8_t>(n % g_opt.paths.size());
      c.phase = static_cast<uint16_t>(current_phase);
    }
    c.out = "GET " + g_opt.paths[c.path] + " HTTP/1.1\r\nHost: " + g_opt.host +
            "\r\nUser-Agent: scenario_loadgen\r\n\r\n";
    c.sent = 0;
    c.in.clear();
    c.got_bytes = false;
    if (c.fd < 0) {
      if (!Connect(c)) {
        Fail(c, kConnect, now);
        return;
      }
      if (c.state == State::kConnecting) return;
    } else {
      c.state = State::kSending;
      Watch(c, EPOLLOUT, false);
    }
    TryWrite(c, now);
  }

  // Records a failed request, drops the connection, and waits 50 ms before the
  // next one (so a refused connect does not spin).
  void Fail(Conn& c, uint8_t result, double now) {
    Record_(c, result, now);
    CloseFd(c);
    c.state = State::kBackoff;
    c.backoff_until = now + 0.05;
  }

  // A reused connection closed before any byte came back: send it once more on
  // a new connection.
  void ClosedEarly(Conn& c, double now) {
    if (c.reqs_on_conn > 0 && !c.got_bytes && !c.retried) {
      CloseFd(c);
      c.retried = true;
      if (c.phase < retries.size()) ++retries[c.phase];
      Send(c, now, false);
      return;
    }
    Fail(c, kClosed, now);
  }

  void TryWrite(Conn& c, double now) {
    while (c.sent < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent,
                       MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        Watch(c, EPOLLOUT, false);
        return;
      }
      ClosedEarly(c, now);
      return;
    }
    c.state = State::kReading;
    Watch(c, EPOLLIN | EPOLLRDHUP, false);
  }

  // 1: a whole response is in c.in; 0: need more; -1: malformed.
  // status, whether the server closes, and the response length are returned.
  static int Parse(const std::string& in, bool eof, int* status, bool* close_after,
                   size_t* length) {
    size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) return in.size() > 65536 ? -1 : 0;
    if (in.compare(0, 9, "HTTP/1.1 ") != 0 && in.compare(0, 9, "HTTP/1.0 ") != 0)
      return -1;
    *status = std::atoi(in.c_str() + 9);
    bool http10 = in.compare(0, 9, "HTTP/1.0 ") == 0;
    *close_after = http10;
    long content_length = -1;
    bool chunked = false;
    size_t pos = in.find("\r\n") + 2;
    while (pos < head_end) {
      size_t eol = in.find("\r\n", pos);
      std::string line = in.substr(pos, eol - pos);
      pos = eol + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      for (auto& ch : name) ch = static_cast<char>(std::tolower(ch));
      for (auto& ch : value) ch = static_cast<char>(std::tolower(ch));
      value.erase(0, value.find_first_not_of(" \t"));
      if (name == "content-length") content_length = std::atol(value.c_str());
      if (name == "transfer-encoding" && value.find("chunked") != std::string::npos)
        chunked = true;
      if (name == "connection") {
        if (value.find("close") != std::string::npos) *close_after = true;
        if (value.find("keep-alive") != std::string::npos) *close_after = false;
      }
    }
    size_t body = head_end + 4;
    if (chunked) {
      // Walk the chunks; the trailer section ends with an empty line.
      size_t p = body;
      while (true) {
        size_t eol = in.find("\r\n", p);
        if (eol == std::string::npos) return 0;
        long size = std::strtol(in.c_str() + p, nullptr, 16);
        if (size < 0) return -1;
        p = eol + 2;
        if (size == 0) {
          while (true) {
            size_t e = in.find("\r\n", p);
            if (e == std::string::npos) return 0;
            if (e == p) {
              *length = e + 2;
              return 1;
            }
            p = e + 2;
          }
        }
        if (in.size() < p + size + 2) return 0;
        p += size + 2;
      }
    }
    if (content_length >= 0) {
      if (in.size() < body + content_length) return 0;
      *length = body + content_length;
      return 1;
    }
    if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200)) {
      *length = body;
      return 1;
    }
    // Delimited by the close.
    *close_after = true;
    if (!eof) return 0;
    *length = in.size();
    return 1;
  }

  void Finished(Conn& c, double now) {
    // Next request, or retire / idle at the end.
    if (c.retiring || !c.active || now >= g_end) {
      CloseFd(c);
      c.state = State::kIdle;
      c.active = false;
      c.retiring = false;
      return;
    }
    Send(c, now, true);
  }

  void OnReadable(Conn& c, double now) {
    char buf[16384];
    bool eof = false;
    while (true) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        c.got_bytes = true;
        if (static_cast<size_t>(n) < sizeof buf) break;
        continue;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      ClosedEarly(c, now);
      return;
    }
    int status = 0;
    bool close_after = false;
    size_t length = 0;
    int r = Parse(c.in, eof, &status, &close_after, &length);
    if (r < 0 || (r == 1 && length < c.in.size())) {  // garbage or an extra answer
      Fail(c, kMalformed, now);
      return;
    }
    if (r == 0) {
      if (eof) ClosedEarly(c, now);
      return;
    }
    Record_(c, status >= 200 && status < 300 ? kOk : kStatus, now);
    ++c.reqs_on_conn;
    if (close_after || eof) CloseFd(c);
    Finished(c, now);
  }

  void OnEvent(Conn& c, uint32_t events, double now) {
    if (c.fd < 0) return;
    if (c.state == State::kConnecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        Fail(c, kConnect, now);
        return;
      }
      c.state = State::kSending;
      TryWrite(c, now);
      return;
    }
    if (c.state == State::kSending) {
      if (events & (EPOLLERR | EPOLLHUP)) {
        ClosedEarly(c, now);
        return;
      }
      TryWrite(c, now);
      return;
    }
    if (c.state == State::kReading) OnReadable(c, now);
  }

  // Sets the number of wanted connections in this loop for a new phase.
  void SetPhase(int phase, int clients, double now) {
    current_phase = phase;
    int active = 0;
    for (auto& c : conns)
      if (c.active && !c.retiring) ++active;
    if (clients > active) {
      for (auto& c : conns) {
        if (active >= clients) break;
        if (c.active && c.retiring) {  // still finishing: keep it instead
          c.retiring = false;
          ++active;
        }
      }
      for (auto& c : conns) {
        if (active >= clients) break;
        if (!c.active) {
          c.active = true;
          c.retiring = false;
          ++active;
          Send(c, now, true);
        }
      }
    } else {
      for (auto& c : conns) {
        if (active <= clients) break;
        if (c.active && !c.retiring) {
          --active;
          if (c.state == State::kBackoff || c.state == State::kIdle) {
            CloseFd(c);
            c.state = State::kIdle;
            c.active = false;
          } else {
            c.retiring = true;
          }
        }
      }
    }
  }

  bool AnyBusy() const {
    for (const auto& c : conns)
      if (c.state == State::kConnecting || c.state == State::kSending ||
          c.state == State::kReading)
        return true;
    return false;
  }

  void Timers(double now) {
    for (auto& c : conns) {
      if (c.state == State::kBackoff) {
        if (now >= c.backoff_until) {
          if (c.active && !c.retiring && now < g_end) {
            Send(c, now, true);
          } else {
            c.state = State::kIdle;
            c.active = false;
            c.retiring = false;
          }
        }
      } else if (c.state != State::kIdle && now >= c.deadline) {
        Record_(c, kTimeout, now);
        CloseFd(c);
        c.state = State::kIdle;
        if (c.active && !c.retiring && now < g_end) {
          Send(c, now, true);
        } else {
          c.active = false;
          c.retiring = false;
        }
      }
    }
  }

  void Run(int max_clients, int nloops) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    conns.resize(static_cast<size_t>(max_clients));
    retries.assign(g_opt.phases.size(), 0);
    records.reserve(1 << 20);
    std::vector<epoll_event> events(256);
    size_t next_phase = 0;
    while (true) {
      double now = Now();
      if (next_phase < g_opt.phases.size() && now >= g_phase_start[next_phase]) {
        int total = g_opt.phases[next_phase].clients;
        // This loop's share of the clients.
        int mine = total / nloops + (index < total % nloops ? 1 : 0);
        SetPhase(static_cast<int>(next_phase), mine, now);
        ++next_phase;
        continue;
      }
      if (now >= g_end) {
        // Stop sending; wait for the requests in flight.
        for (auto& c : conns) c.retiring = true;
        if (!AnyBusy()) break;
      }
      double wake = now + 0.01;
      if (next_phase < g_opt.phases.size())
        wake = std::min(wake, g_phase_start[next_phase]);
      int ms = std::max(0, static_cast<int>((wake - now) * 1000));
      int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), ms);
      now = Now();
      for (int i = 0; i < n; ++i) {
        Conn& c = conns[events[i].data.u32];
        OnEvent(c, events[i].events, now);
      }
      Timers(now);
    }
    for (auto& c : conns) CloseFd(c);
    close(epfd);
  }
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "scenario_loadgen: %s\nusage: scenario_loadgen --port P --path PATH "
               "[--path PATH...] --phase CLIENTS:SECONDS [--phase ...] --out FILE "
               "[--host 127.0.0.1] [--timeout 30] [--threads 1]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--host") g_opt.host = value();
    else if (a == "--port") g_opt.port = std::atoi(value().c_str());
    else if (a == "--path") g_opt.paths.push_back(value());
    else if (a == "--out") g_opt.out = value();
    else if (a == "--timeout") g_opt.timeout = std::atof(value().c_str());
    else if (a == "--threads") g_opt.threads = std::atoi(value().c_str());
    else if (a == "--phase") {
      std::string v = value();
      size_t colon = v.find(':');
      if (colon == std::string::npos) Usage("--phase wants CLIENTS:SECONDS");
      Phase p{std::atoi(v.substr(0, colon).c_str()),
              std::atof(v.substr(colon + 1).c_str())};
      if (p.clients < 0 || p.seconds <= 0) Usage("bad --phase");
      g_opt.phases.push_back(p);
    } else {
      Usage(("unknown argument " + a).c_str());
    }
  }
  if (g_opt.port <= 0 || g_opt.paths.empty() || g_opt.phases.empty() ||
      g_opt.out.empty() || g_opt.threads < 1 || g_opt.paths.size() > 255)
    Usage("--port, --path, --phase and --out are required");

  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int max_clients = 0;
  for (const auto& p : g_opt.phases) max_clients = std::max(max_clients, p.clients);

  g_t0 = Now();
  double t = g_t0;
  for (const auto& p : g_opt.phases) {
    g_phase_start.push_back(t);
    t += p.seconds;
  }
  g_end = t;

  int nloops = std::max(1, std::min(g_opt.threads, std::max(1, max_clients)));
  std::vector<Loop> loops(static_cast<size_t>(nloops));
  std::vector<std::thread> threads;
  for (int i = 0; i < nloops; ++i) {
    loops[i].index = i;
    int share = max_clients / nloops + (i < max_clients % nloops ? 1 : 0);
    threads.emplace_back([&loops, i, share, nloops] { loops[i].Run(share, nloops); });
  }
  for (auto& th : threads) th.join();
  double finished = Now();

  std::vector<Record> all;
  for (auto& l : loops) all.insert(all.end(), l.records.begin(), l.records.end());
  std::sort(all.begin(), all.end(),
            [](const Record& a, const Record& b) { return a.start < b.start; });
  FILE* f = std::fopen(g_opt.out.c_str(), "wb");
  if (f == nullptr) {
    std::perror(g_opt.out.c_str());
    return 1;
  }
  if (!all.empty()) std::fwrite(all.data(), sizeof(Record), all.size(), f);
  std::fclose(f);

  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec * 1e-6;
  std::printf("{\"t0_monotonic\": %.6f, \"seconds\": %.3f, \"cpu_seconds\": %.3f, "
              "\"records\": %zu, \"phases\": [",
              g_t0, finished - g_t0, cpu, all.size());
  for (size_t p = 0; p < g_opt.phases.size(); ++p) {
    uint64_t ok = 0, errors = 0, retries = 0;
    for (const auto& r : all)
      if (r.phase == p) (r.result == kOk ? ok : errors)++;
    for (auto& l : loops) retries += l.retries[p];
    std::printf("%s{\"clients\": %d, \"seconds\": %.3f, \"ok\": %llu, \"errors\": %llu, "
                "\"retries\": %llu}",
                p ? ", " : "", g_opt.phases[p].clients, g_opt.phases[p].seconds,
                static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(retries));
  }
  std::printf("]}\n");
  return 0;
}
