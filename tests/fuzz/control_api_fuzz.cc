// libFuzzer target: ControlApi::Dispatch, the control API's route table, its
// handlers and JSON, without sockets.
//
// Input: "METHOD PATH\n" then the body (the seeds read as requests). The same
// body bytes are also what worker 1's first thread publishes in the scoreboard
// as its current request path (the scoreboard is written by workers, whose
// request paths come from clients), so /v1/workers sees arbitrary bytes there.
//
// The backend is a test double of the supervisor: fixed snapshots and slots,
// and it records the commands it is asked to execute, answering each with a
// success or a 409 picked from a hash of the input. Checked:
// - the status is one the API documents, the answer is a JSON object, and an
//   error answer is {"error": string, "detail": string};
// - a change reaches the supervisor only when the request was valid: one
//   command per 2xx/backend-refused answer to a change endpoint (POST, or PUT
//   /v1/autoscale), none otherwise, with its values in the documented range.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/scoreboard.h"
#include "daemon/control_api.h"
#include "daemon/control_backend.h"

namespace {

using wsgid::Command;
using wsgid::CommandResult;

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "control_api_fuzz: invariant violated: %s\n", what);
  std::abort();
}

#define CHECK(cond) \
  if (!(cond)) Violation(#cond)

constexpr int kMaxWorkers = 32;

class FakeBackend : public wsgid::ControlBackend {
 public:
  FakeBackend() {
    snapshot_.started_ns = 1;
    snapshot_.desired = 3;
    snapshot_.generation = 2;
    snapshot_.threads = 4;
    snapshot_.max_workers = kMaxWorkers;
    snapshot_.workers = {{1, ::getpid(), 2, wsgid::WorkerState::kReady},
                         {2, 0, 2, wsgid::WorkerState::kStarting},
                         {3, 0, 1, wsgid::WorkerState::kDraining}};
    snapshot_.listeners = {"127.0.0.1:8000", "unix:/tmp/fuzz.sock"};
    snapshot_.autoscale = true;
    snapshot_.min_workers = 1;
    snapshot_.min_threads = 1;
    snapshot_.max_threads = 8;
    snapshot_.cores = 2;
    snapshot_.decisions = {{"up/workers", 2}, {"down/threads", 1}};
    snapshot_.recent_decisions = {"up workers 2 -> 3: queue depth 12"};
  }

  // Worker 1's thread 0 is in a request for `path`; thread 2 in a fixed one.
  void Publish(std::string_view path) {
    slots_[0] = std::make_unique<wsgid::WorkerSlot>();
    slots_[1] = std::make_unique<wsgid::WorkerSlot>();
    wsgid::Scoreboard::BeginRequest(&slots_[0]->thread[0], 5, "POST", path);
    wsgid::Scoreboard::BeginRequest(&slots_[0]->thread[2], 7, "GET", "/ok");
    slots_[0]->threads.store(4);
    slots_[1]->threads.store(1u
                             << 31);  // a worker's word: bounded by the reader
    slots_[0]->heartbeat_ns.store(3);
    slots_[0]->requests.store(42);
  }

  void Reset(bool refuse) {
    commands_.clear();
    refuse_ = refuse;
  }
  const std::vector<Command>& commands() const { return commands_; }

  wsgid::PoolSnapshot Snapshot() override { return snapshot_; }
  wsgid::RequestTotals Totals() override { return {}; }
  const wsgid::WorkerSlot* Slot(int id) override {
    return id >= 1 && id <= 2 ? slots_[id - 1].get() : nullptr;
  }
  CommandResult Execute(const Command& command) override {
    commands_.push_back(command);
    CommandResult r;
    if (refuse_) {
      r.status = 409;
      r.error = "conflict";
      r.detail = "refused by the fuzzing backend";
    } else {
      r.value = command.value;
    }
    return r;
  }

 private:
  wsgid::PoolSnapshot snapshot_;
  std::unique_ptr<wsgid::WorkerSlot> slots_[2];
  std::vector<Command> commands_;
  bool refuse_ = false;
};

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The endpoints that ask the supervisor for a change.
bool IsChange(const std::string& method, const std::string& path) {
  if (method == "PUT") return path == "/v1/autoscale";
  return method == "POST" && (path == "/v1/scale" || path == "/v1/threads" ||
                              path == "/v1/reload" || path == "/v1/stop" ||
                              path.rfind("/v1/workers/", 0) == 0);
}

void CheckCommand(const Command& c) {
  switch (c.kind) {
    case Command::Kind::kScale:
      CHECK(c.value >= 1 && c.value <= kMaxWorkers);
      break;
    case Command::Kind::kThreads:
      CHECK(c.value >= 1 && c.value <= wsgid::kMaxThreadsPerWorker);
      break;
    case Command::Kind::kRestartWorker:
    case Command::Kind::kKillWorker:
      CHECK(c.value >= 0 && c.value <= 999999);
      break;
    case Command::Kind::kAutoscale:
      CHECK(c.enabled >= -1 && c.enabled <= 1);
      CHECK(c.min >= 0 && c.min <= kMaxWorkers);
      CHECK(c.max >= 0 && c.max <= kMaxWorkers);
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Dispatch logs every change: keep the formatting, drop the lines.
  if (!wsgid::OpenErrorLog("/dev/null", wsgid::LogLevel::kInfo).ok()) abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FakeBackend* backend = new FakeBackend();
  static wsgid::ControlApi* api = [] {
    wsgid::ControlApi::Options options;
    options.max_workers = kMaxWorkers;
    options.version = "0.0.0-fuzz";
    return new wsgid::ControlApi(backend, options);
  }();

  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t eol = input.find('\n');
  std::string_view line = input.substr(0, eol);
  std::string body(eol == std::string_view::npos ? std::string_view()
                                                 : input.substr(eol + 1));
  size_t sp = line.find(' ');
  std::string method(line.substr(0, sp));
  std::string path(sp == std::string_view::npos ? std::string_view()
                                                : line.substr(sp + 1));
  backend->Publish(body);
  backend->Reset(Fnv1a(input) % 4 == 0);

  auto [status, text] = api->Dispatch(method, path, body, "the fuzzer");

  static const std::set<int> kDocumented = {200, 400, 401, 404, 405, 409, 422};
  if (!kDocumented.count(status)) {
    std::fprintf(stderr, "status %d\n", status);
    Violation("undocumented status");
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  CHECK(!doc.is_discarded());
  CHECK(doc.is_object());
  if (status >= 400) {
    CHECK(doc.contains("error") && doc["error"].is_string());
    CHECK(doc.contains("detail") && doc["detail"].is_string());
  }
  const auto& commands = backend->commands();
  CHECK(commands.size() <= 1);
  for (const Command& c : commands) CheckCommand(c);
  if (!commands.empty()) {
    CHECK(IsChange(method, path));
    CHECK(status == 200 || status == 409);
  } else if (IsChange(method, path)) {
    CHECK(status >= 400);  // nothing done: the request must have been refused
  }
  return 0;
}
