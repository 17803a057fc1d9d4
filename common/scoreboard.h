// Scoreboard: the shared memory through which workers report to the master.
//
// A memfd created by the master, sealed against resizing (a worker's ftruncate
// would make the master SIGBUS), mapped by every worker. One WorkerSlot per
// worker id, one ThreadSlot per app thread. Workers write their own slot with
// relaxed atomics; the master only reads (and resets a slot before handing it
// to a new worker). App code can reach this memory (ctypes reaches anything),
// so the master treats every value as untrusted: it bounds-checks and never
// signals a pid read from here. Strings are guarded by a sequence counter.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace wsgid {

constexpr uint32_t kScoreboardMagic = 0x64677377;  // "wsgd"
constexpr uint32_t kScoreboardVersion = 5;
constexpr int kMaxThreadsPerWorker = 256;

// Request counters are kept per method and status, from fixed tables so the
// memory is fixed and the metrics' label sets are bounded.
constexpr const char* kMethodLabels[] = {"GET",    "HEAD",    "POST",  "PUT",
                                         "DELETE", "OPTIONS", "PATCH", "other"};
constexpr int kMethodCount = 8;
constexpr int kStatusCodes[] = {
    200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404,
    405, 408, 409, 410, 413, 414, 415, 422, 429, 431, 500, 501, 502, 503, 504};
constexpr int kListedCodes = 30;
constexpr int kCodeCount = kListedCodes + 5;  // then 1xx..5xx for the others
// Latency histogram upper bounds in seconds (a last bucket holds the rest).
constexpr double kLatencyBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,  0.1,    0.25,  0.5,  1,
                                     2.5,   5,      10,    30,   60};
constexpr int kLatencyBuckets = 16;

int MethodIndex(std::string_view method);
int CodeIndex(int status);
// "200", ..., or "1xx".."5xx" for the catch-all entries.
std::string CodeLabel(int index);
int LatencyBucket(double seconds);

struct alignas(64) ThreadSlot {
  std::atomic<uint32_t> seq;   // odd while method/path are being written
  std::atomic<uint32_t> busy;  // 1 inside a request
  std::atomic<int64_t>
      request_start_ns;            // CLOCK_MONOTONIC of the current request
  std::atomic<uint64_t> requests;  // requests finished by this thread
  std::atomic<int64_t> busy_ns;    // time spent inside requests, accumulated
  char method[16];
  char path[64];  // the path without its query string, truncated
};

struct WorkerSlot {
  std::atomic<int64_t> heartbeat_ns;  // stamped by the worker's C++ main loop
  std::atomic<int32_t> pid;       // as reported by the worker (informational)
  std::atomic<uint32_t> threads;  // app threads running
  std::atomic<uint32_t>
      desired_threads;  // written by the master: the thread target
  std::atomic<uint32_t> connections;  // client connections open now
  // Written by the master: above this many open connections the worker closes
  // keep-alive connections after their response (Connection: close), so the
  // clients reconnect to workers with fewer. 0: no limit.
  std::atomic<uint32_t> connection_quota;
  // Requests waiting in this worker for a free app thread (connections with
  // bytes unread and no thread on them), integrated over time: the master
  // takes differences, like busy_ns. request x ns.
  std::atomic<int64_t> waiting_ns;
  std::atomic<uint64_t> requests;   // requests finished by the worker
  std::atomic<uint64_t> accepts;    // connections accepted
  std::atomic<uint64_t> bytes_out;  // response body bytes
  std::atomic<uint64_t>
      app_exceptions;  // requests the app failed with an exception
  std::atomic<uint64_t> responses[kMethodCount][kCodeCount];
  std::atomic<uint64_t>
      latency[kLatencyBuckets];  // requests per bucket (not cumulative)
  std::atomic<uint64_t> latency_sum_us;
  // Error-log records by LogCounter (common/log.h), for Gunicorn's statsd
  // gunicorn.log.* counters.
  std::atomic<uint64_t> log_records[kLogCounterCount];
  ThreadSlot thread[kMaxThreadsPerWorker];
};

struct ScoreboardHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t slots;
  uint32_t reserved;
};

// A consistent copy of one thread's current request.
struct ThreadActivity {
  bool busy = false;
  int64_t request_start_ns = 0;
  std::string method;
  std::string path;
};

class Scoreboard {
 public:
  Scoreboard() = default;
  Scoreboard(Scoreboard&&) noexcept;
  Scoreboard& operator=(Scoreboard&&) noexcept;
  ~Scoreboard();

  // Master: a new scoreboard with `slots` worker slots.
  static StatusOr<Scoreboard> Create(int slots);
  // Worker: maps the scoreboard passed as `fd`.
  static StatusOr<Scoreboard> Attach(int fd);

  int fd() const { return fd_.get(); }
  int slots() const { return slots_; }
  // REQUIRES: 0 <= index < slots().
  WorkerSlot& slot(int index) { return base()[index]; }
  // Master: zeroes a slot before a new worker gets it, heartbeat set to
  // `now_ns`.
  void Reset(int index, int64_t now_ns);

  // Worker: publishes what a thread is doing (method/path under the sequence
  // counter).
  static void BeginRequest(ThreadSlot* t, int64_t now_ns,
                           std::string_view method, std::string_view path);
  static void EndRequest(ThreadSlot* t, int64_t now_ns);
  // Master: a consistent snapshot (retries while the worker writes).
  static ThreadActivity Read(const ThreadSlot& t);

 private:
  WorkerSlot* base() const {
    return reinterpret_cast<WorkerSlot*>(static_cast<char*>(map_) +
                                         kSlotsOffset);
  }
  static constexpr size_t kSlotsOffset = 64;
  static size_t SizeFor(int slots) {
    return kSlotsOffset + sizeof(WorkerSlot) * slots;
  }

  UniqueFd fd_;
  void* map_ = nullptr;
  size_t size_ = 0;
  int slots_ = 0;
};

}  // namespace wsgid
