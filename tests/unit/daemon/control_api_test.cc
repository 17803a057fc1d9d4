// The control API's routes through ControlApi::Dispatch against a fake
// supervisor: no sockets, no threads. Checked: every route answers, the
// method and path errors (405, 404), the body errors (400 for the shape, 422
// for a value), the Command a valid change hands the supervisor (and that an
// invalid one hands it none), and how the supervisor's CommandResult becomes
// the answer.
#include "daemon/control_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/scoreboard.h"
#include "daemon/control_routes.h"

namespace wsgid {
namespace {

using nlohmann::json;

constexpr int kMaxWorkers = 32;

// A supervisor that answers from a fixed snapshot and two scoreboard slots,
// records every command and answers each with `result` (its value, when 0,
// taken from the command).
class FakeBackend : public ControlBackend {
 public:
  FakeBackend() {
    snapshot.started_ns = 1;
    snapshot.desired = 3;
    snapshot.generation = 2;
    snapshot.threads = 4;
    snapshot.max_workers = kMaxWorkers;
    snapshot.workers = {{1, 0, 2, WorkerState::kReady},
                        {2, 0, 2, WorkerState::kStarting},
                        {3, 0, 1, WorkerState::kDraining}};
    snapshot.listeners = {"127.0.0.1:8000"};
    snapshot.autoscale = true;
    snapshot.min_workers = 2;
    snapshot.autoscale_max_workers = 10;
    snapshot.min_threads = 1;
    snapshot.max_threads = 8;
    snapshot.cores = 4;
    snapshot.memory_budget_bytes = 1 << 30;
    snapshot.decisions = {{"up/workers", 2}, {"down/threads", 1}};
    snapshot.recent_decisions = {"up workers 2 -> 3: queue depth 12"};
    for (auto& slot : slots) slot = std::make_unique<WorkerSlot>();
    // Worker 1: four threads, two of them in a request; worker 2: one, idle.
    slots[0]->threads.store(4);
    slots[0]->requests.store(42);
    slots[0]->connections.store(7);
    slots[0]->heartbeat_ns.store(MonotonicNs());
    Scoreboard::BeginRequest(&slots[0]->thread[0], 5, "POST", "/upload");
    Scoreboard::BeginRequest(&slots[0]->thread[2], 7, "GET", "/slow");
    slots[1]->threads.store(1);
  }

  PoolSnapshot Snapshot() override { return snapshot; }
  RequestTotals Totals() override { return {}; }
  const WorkerSlot* Slot(int id) override {
    return id >= 1 && id <= 2 ? slots[id - 1].get() : nullptr;
  }
  CommandResult Execute(const Command& command) override {
    commands.push_back(command);
    CommandResult r = result;
    if (r.value == 0) r.value = command.value;
    return r;
  }

  PoolSnapshot snapshot;
  std::unique_ptr<WorkerSlot> slots[2];
  std::vector<Command> commands;
  CommandResult result;
};

// Dispatch's answer, parsed.
struct Answer {
  int status;
  json body;
};

class ControlApiTest : public ::testing::Test {
 protected:
  ControlApiTest() : api_(&backend_, MakeOptions()) {}

  static ControlApi::Options MakeOptions() {
    ControlApi::Options options;
    options.max_workers = kMaxWorkers;
    options.version = "1.2.3-test";
    return options;
  }

  Answer Call(const std::string& method, const std::string& path,
              const std::string& body = "") {
    ApiAnswer answer = api_.Dispatch(method, path, body, "the unit test");
    json parsed = json::parse(answer.json, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << answer.json;
    return {answer.status, parsed};
  }

  // An error answer: `status`, the error name, and a detail containing
  // `detail`; and nothing reached the supervisor.
  void ExpectRefused(const Answer& answer, int status, const char* error,
                     const std::string& detail) {
    EXPECT_EQ(answer.status, status) << answer.body;
    EXPECT_EQ(answer.body.size(), 2u) << answer.body;
    EXPECT_EQ(answer.body.value("error", ""), error) << answer.body;
    EXPECT_NE(answer.body.value("detail", "").find(detail), std::string::npos)
        << answer.body;
    EXPECT_TRUE(backend_.commands.empty());
  }

  // The one command the supervisor was handed.
  Command OnlyCommand() {
    EXPECT_EQ(backend_.commands.size(), 1u);
    return backend_.commands.empty() ? Command{} : backend_.commands[0];
  }

  FakeBackend backend_;
  ControlApi api_;
};

// --- The table ---------------------------------------------------------------

TEST(ControlRoutesTest, PatternsMatchSegmentForSegment) {
  std::vector<std::string> params;
  EXPECT_TRUE(MatchPathPattern("/v1/status", "/v1/status", &params));
  EXPECT_TRUE(params.empty());
  EXPECT_FALSE(MatchPathPattern("/v1/status", "/v1/status/", &params));
  EXPECT_FALSE(MatchPathPattern("/v1/status", "/v1/statusx", &params));
  EXPECT_FALSE(MatchPathPattern("/v1/status", "/v1", &params));
  EXPECT_FALSE(MatchPathPattern("/v1/status", "", &params));
  EXPECT_TRUE(MatchPathPattern("/v1/workers/{id}/kill", "/v1/workers/17/kill",
                               &params));
  EXPECT_EQ(params, std::vector<std::string>{"17"});
}

TEST(ControlRoutesTest, AnIdIsOneToSixDigits) {
  std::vector<std::string> params;
  const char* pattern = "/v1/workers/{id}/kill";
  EXPECT_TRUE(MatchPathPattern(pattern, "/v1/workers/999999/kill", &params));
  EXPECT_TRUE(MatchPathPattern(pattern, "/v1/workers/0/kill", &params));
  EXPECT_FALSE(MatchPathPattern(pattern, "/v1/workers/1000000/kill", &params));
  EXPECT_FALSE(MatchPathPattern(pattern, "/v1/workers//kill", &params));
  EXPECT_FALSE(MatchPathPattern(pattern, "/v1/workers/-1/kill", &params));
  EXPECT_FALSE(MatchPathPattern(pattern, "/v1/workers/1a/kill", &params));
  EXPECT_FALSE(MatchPathPattern(pattern, "/v1/workers/1/kill/", &params));
}

ApiAnswer Fixed(const ControlContext&, const ControlRequest&) {
  return {200, "{}"};
}

TEST(ControlRoutesTest, FindRouteTellsAWrongMethodFromAnUnknownPath) {
  const ControlRoute routes[] = {
      {"GET", "/a", Fixed}, {"PUT", "/a", Fixed}, {"POST", "/b/{id}", Fixed}};
  auto found = FindRoute(routes, "PUT", "/a");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->route, &routes[1]);
  found = FindRoute(routes, "POST", "/b/42");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->params, std::vector<std::string>{"42"});

  found = FindRoute(routes, "DELETE", "/a");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kMethodNotAllowed);
  EXPECT_EQ(found.status().message(), "DELETE /a: use GET, PUT");
  found = FindRoute(routes, "GET", "/b/x");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(found.status().message(), "no such endpoint: /b/x");
}

TEST_F(ControlApiTest, EveryRouteInTheTableAnswers) {
  backend_.result.status = 200;
  for (const ControlRoute& route : ControlRoutes()) {
    std::string path = route.pattern;
    if (size_t at = path.find("{id}"); at != std::string::npos)
      path.replace(at, 4, "2");
    std::string body = path == "/v1/scale"     ? R"({"workers": 2})"
                       : path == "/v1/threads" ? R"({"threads": 2})"
                                               : "";
    Answer answer = Call(route.method, path, body);
    EXPECT_EQ(answer.status, 200)
        << route.method << " " << path << ": " << answer.body;
  }
  // Each change (and only a change) reached the supervisor once.
  EXPECT_EQ(backend_.commands.size(), 7u);
}

// --- Methods and paths -------------------------------------------------------

TEST_F(ControlApiTest, AKnownPathWithAnotherMethodIs405) {
  ExpectRefused(Call("DELETE", "/v1/scale"), 405, "method_not_allowed",
                "DELETE /v1/scale: use POST");
  ExpectRefused(Call("GET", "/v1/reload"), 405, "method_not_allowed",
                "GET /v1/reload: use POST");
  ExpectRefused(Call("POST", "/v1/status"), 405, "method_not_allowed",
                "POST /v1/status: use GET");
  ExpectRefused(Call("PUT", "/v1/workers"), 405, "method_not_allowed",
                "use GET");
  ExpectRefused(Call("POST", "/v1/autoscale"), 405, "method_not_allowed",
                "POST /v1/autoscale: use GET, PUT");
  ExpectRefused(Call("GET", "/v1/workers/3/kill"), 405, "method_not_allowed",
                "use POST");
  ExpectRefused(Call("PATCH", "/v1/stop"), 405, "method_not_allowed",
                "use POST");
}

TEST_F(ControlApiTest, AnUnknownPathIs404) {
  ExpectRefused(Call("GET", "/v1/nothing"), 404, "not_found",
                "no such endpoint: /v1/nothing");
  ExpectRefused(Call("GET", "/v1/status/"), 404, "not_found",
                "no such endpoint");
  ExpectRefused(Call("GET", "/v2/status"), 404, "not_found",
                "no such endpoint");
  ExpectRefused(Call("GET", ""), 404, "not_found", "no such endpoint");
  ExpectRefused(Call("POST", "/v1/workers/1234567/kill"), 404, "not_found",
                "no such endpoint");
  ExpectRefused(Call("POST", "/v1/workers/one/restart"), 404, "not_found",
                "no such endpoint");
  ExpectRefused(Call("POST", "/v1/workers/1/suspend"), 404, "not_found",
                "no such endpoint");
}

// --- Reads -------------------------------------------------------------------

TEST_F(ControlApiTest, StatusCountsThePool) {
  Answer answer = Call("GET", "/v1/status");
  ASSERT_EQ(answer.status, 200);
  const json& doc = answer.body;
  EXPECT_EQ(doc["version"], "1.2.3-test");
  EXPECT_EQ(doc["generation"], 2);
  EXPECT_EQ(doc["max_workers"], kMaxWorkers);
  EXPECT_EQ(doc["listeners"], json::array({"127.0.0.1:8000"}));
  EXPECT_EQ(doc["autoscale"], json({{"enabled", true}}));
  EXPECT_GE(doc["uptime_seconds"].get<double>(), 0);
  EXPECT_EQ(doc["pool"], json({{"desired", 3},
                               {"live", 3},
                               {"ready", 1},
                               {"starting", 1},
                               {"draining", 1},
                               {"threads", 4},
                               {"busy_threads", 2}}));
}

TEST_F(ControlApiTest, WorkersShowTheirThreadsCurrentRequests) {
  Answer answer = Call("GET", "/v1/workers");
  ASSERT_EQ(answer.status, 200);
  const json& workers = answer.body["workers"];
  ASSERT_EQ(workers.size(), 3u);
  const json& first = workers[0];
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(first["generation"], 2);
  EXPECT_EQ(first["state"], "ready");
  EXPECT_EQ(first["threads"], 4);
  EXPECT_EQ(first["busy_threads"], 2);
  EXPECT_EQ(first["requests"], 42);
  EXPECT_EQ(first["connections"], 7);
  ASSERT_EQ(first["current"].size(), 2u);
  EXPECT_EQ(first["current"][0]["thread"], 0);
  EXPECT_EQ(first["current"][0]["method"], "POST");
  EXPECT_EQ(first["current"][0]["path"], "/upload");
  EXPECT_EQ(first["current"][1]["thread"], 2);
  EXPECT_EQ(first["current"][1]["path"], "/slow");
  EXPECT_GT(first["current"][1]["seconds"].get<double>(), 0);
  EXPECT_EQ(workers[1]["state"], "starting");
  EXPECT_EQ(workers[1]["threads"], 1);
  EXPECT_EQ(workers[1]["current"], json::array());
  // No slot: zeros, not a crash.
  EXPECT_EQ(workers[2]["state"], "draining");
  EXPECT_EQ(workers[2]["threads"], 0);
  EXPECT_EQ(workers[2]["heartbeat_age_seconds"], 0);
}

TEST_F(ControlApiTest, WorkersBoundTheThreadCountAWorkerClaims) {
  backend_.slots[1]->threads.store(1u << 31);  // the worker's word only
  Answer answer = Call("GET", "/v1/workers");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body["workers"][1]["threads"], kMaxThreadsPerWorker);
}

TEST_F(ControlApiTest, AutoscaleShowsTheScaler) {
  Answer answer = Call("GET", "/v1/autoscale");
  ASSERT_EQ(answer.status, 200);
  const json& doc = answer.body;
  EXPECT_EQ(doc["enabled"], true);
  EXPECT_EQ(doc["workers"], 3);
  EXPECT_EQ(doc["threads"], 4);
  EXPECT_EQ(doc["min_workers"], 2);
  EXPECT_EQ(doc["max_workers"], 10);
  EXPECT_EQ(doc["min_threads"], 1);
  EXPECT_EQ(doc["max_threads"], 8);
  EXPECT_EQ(doc["cores"], 4);
  EXPECT_EQ(doc["rule_of_thumb_workers"], 9);
  EXPECT_EQ(doc["memory_budget_bytes"], 1 << 30);
  EXPECT_EQ(doc["decisions"], json({{"up/workers", 2}, {"down/threads", 1}}));
  EXPECT_EQ(doc["recent"], json::array({"up workers 2 -> 3: queue depth 12"}));
}

// --- Scale -------------------------------------------------------------------

TEST_F(ControlApiTest, ScaleToACount) {
  Answer answer = Call("POST", "/v1/scale", R"({"workers": 5})");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, json({{"desired", 5}}));
  Command c = OnlyCommand();
  EXPECT_EQ(c.kind, Command::Kind::kScale);
  EXPECT_EQ(c.value, 5);
}

TEST_F(ControlApiTest, ScaleByADeltaFromTheCurrentTarget) {
  Call("POST", "/v1/scale", R"({"delta": -2})");
  EXPECT_EQ(OnlyCommand().value, 1);
}

TEST_F(ControlApiTest, ScaleRefusesABodyOfTheWrongShapeWith400) {
  ExpectRefused(Call("POST", "/v1/scale", "{not json"), 400, "bad_request",
                "malformed JSON");
  ExpectRefused(Call("POST", "/v1/scale", "[3]"), 400, "bad_request",
                "the body must be a JSON object");
  ExpectRefused(Call("POST", "/v1/scale", R"({"workers": 3, "colour": "red"})"),
                400, "bad_request", "unknown field 'colour'");
  ExpectRefused(Call("POST", "/v1/scale", R"({"workers": 3, "delta": 1})"), 400,
                "bad_request", "give exactly one of 'workers' and 'delta'");
  ExpectRefused(Call("POST", "/v1/scale", ""), 400, "bad_request",
                "exactly one");
}

TEST_F(ControlApiTest, ScaleRefusesAValueOutOfRangeWith422) {
  ExpectRefused(Call("POST", "/v1/scale", R"({"workers": "three"})"), 422,
                "invalid_value", "'workers' must be an integer");
  ExpectRefused(Call("POST", "/v1/scale", R"({"delta": 1.5})"), 422,
                "invalid_value", "'delta' must be an integer");
  ExpectRefused(
      Call("POST", "/v1/scale", R"({"workers": 0})"), 422, "invalid_value",
      "workers must be between 1 and 32 (--max-workers); asked for 0");
  ExpectRefused(Call("POST", "/v1/scale", R"({"workers": 33})"), 422,
                "invalid_value", "asked for 33");
  ExpectRefused(Call("POST", "/v1/scale", R"({"workers": 99999999999})"), 422,
                "invalid_value", "workers must be between 1 and 32");
  ExpectRefused(Call("POST", "/v1/scale", R"({"delta": -3})"), 422,
                "invalid_value", "asked for 0");
  ExpectRefused(Call("POST", "/v1/scale", R"({"delta": 30})"), 422,
                "invalid_value", "asked for 33");
}

// --- Threads, reload, stop ---------------------------------------------------

TEST_F(ControlApiTest, ThreadsSetsTheCountPerWorker) {
  Answer answer = Call("POST", "/v1/threads", R"({"threads": 6})");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, json({{"threads", 6}}));
  Command c = OnlyCommand();
  EXPECT_EQ(c.kind, Command::Kind::kThreads);
  EXPECT_EQ(c.value, 6);
}

TEST_F(ControlApiTest, ThreadsRefusesBadInput) {
  ExpectRefused(Call("POST", "/v1/threads", "{}"), 400, "bad_request",
                "'threads' is required");
  ExpectRefused(Call("POST", "/v1/threads", R"({"threads": 2, "x": 1})"), 400,
                "bad_request", "unknown field 'x'");
  ExpectRefused(Call("POST", "/v1/threads", R"({"threads": true})"), 422,
                "invalid_value", "'threads' must be an integer");
  ExpectRefused(Call("POST", "/v1/threads", R"({"threads": 0})"), 422,
                "invalid_value", "threads must be between 1 and");
  ExpectRefused(Call("POST", "/v1/threads", R"({"threads": 100000})"), 422,
                "invalid_value", "between");
}

TEST_F(ControlApiTest, ReloadAnswersTheNewGeneration) {
  backend_.result.value = 3;
  Answer answer = Call("POST", "/v1/reload");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, json({{"generation", 3}}));
  EXPECT_EQ(OnlyCommand().kind, Command::Kind::kReload);
}

TEST_F(ControlApiTest, ReloadTakesNoFields) {
  Call("POST", "/v1/reload", "{}");
  EXPECT_EQ(OnlyCommand().kind, Command::Kind::kReload);
  backend_.commands.clear();
  ExpectRefused(Call("POST", "/v1/reload", R"({"now": true})"), 400,
                "bad_request", "unknown field 'now'");
}

TEST_F(ControlApiTest, StopIsGracefulUnlessToldOtherwise) {
  backend_.result.status = 202;
  Answer answer = Call("POST", "/v1/stop");
  EXPECT_EQ(answer.status, 202);
  EXPECT_EQ(answer.body, json({{"stopping", true}}));
  Command c = OnlyCommand();
  EXPECT_EQ(c.kind, Command::Kind::kStop);
  EXPECT_TRUE(c.graceful);
  backend_.commands.clear();
  Call("POST", "/v1/stop", R"({"graceful": false})");
  EXPECT_FALSE(OnlyCommand().graceful);
  backend_.commands.clear();
  ExpectRefused(Call("POST", "/v1/stop", R"({"graceful": 1})"), 422,
                "invalid_value", "'graceful' must be true or false");
}

// --- Autoscale ---------------------------------------------------------------

TEST_F(ControlApiTest, AutoscalePutsOnlyWhatItIsGiven) {
  Answer answer =
      Call("PUT", "/v1/autoscale", R"({"enabled": false, "min": 2, "max": 5})");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, json::object());
  Command c = OnlyCommand();
  EXPECT_EQ(c.kind, Command::Kind::kAutoscale);
  EXPECT_EQ(c.enabled, 0);
  EXPECT_EQ(c.min, 2);
  EXPECT_EQ(c.max, 5);
  backend_.commands.clear();
  Call("PUT", "/v1/autoscale", "{}");
  c = OnlyCommand();
  EXPECT_EQ(c.enabled, -1);
  EXPECT_EQ(c.min, 0);
  EXPECT_EQ(c.max, 0);
  backend_.commands.clear();
  Call("PUT", "/v1/autoscale", R"({"enabled": true})");
  EXPECT_EQ(OnlyCommand().enabled, 1);
}

TEST_F(ControlApiTest, AutoscaleRefusesBadInput) {
  ExpectRefused(Call("PUT", "/v1/autoscale", R"({"enabled": "yes"})"), 422,
                "invalid_value", "'enabled' must be true or false");
  ExpectRefused(Call("PUT", "/v1/autoscale", R"({"min": 0})"), 422,
                "invalid_value",
                "'min' must be a worker count between 1 and 32");
  ExpectRefused(Call("PUT", "/v1/autoscale", R"({"max": 33})"), 422,
                "invalid_value", "'max' must be a worker count");
  ExpectRefused(Call("PUT", "/v1/autoscale", R"({"max": "4"})"), 422,
                "invalid_value", "'max' must be a worker count");
  ExpectRefused(Call("PUT", "/v1/autoscale", R"({"step": 1})"), 400,
                "bad_request", "unknown field 'step'");
  ExpectRefused(Call("PUT", "/v1/autoscale", "{"), 400, "bad_request",
                "malformed JSON");
}

// --- Workers -----------------------------------------------------------------

TEST_F(ControlApiTest, RestartAndKillNameTheWorker) {
  backend_.result.status = 202;
  Answer answer = Call("POST", "/v1/workers/12/restart");
  EXPECT_EQ(answer.status, 202);
  EXPECT_EQ(answer.body, json({{"id", 12}}));
  Command c = OnlyCommand();
  EXPECT_EQ(c.kind, Command::Kind::kRestartWorker);
  EXPECT_EQ(c.value, 12);
  backend_.commands.clear();
  Call("POST", "/v1/workers/007/kill");
  c = OnlyCommand();
  EXPECT_EQ(c.kind, Command::Kind::kKillWorker);
  EXPECT_EQ(c.value, 7);
}

// --- What the supervisor answers ---------------------------------------------

TEST_F(ControlApiTest, ARefusalIsAnsweredInTheSupervisorsWords) {
  struct Case {
    std::string method, path, body;
    CommandResult result;
  };
  const Case cases[] = {
      {"POST", "/v1/reload", "", {409, "reload_failed", "app did not import"}},
      {"POST",
       "/v1/workers/99/kill",
       "",
       {404, "not_found", "no serving worker 99"}},
      {"POST",
       "/v1/threads",
       R"({"threads": 9})",
       {422, "invalid_value", "above --max-threads"}},
      {"PUT",
       "/v1/autoscale",
       R"({"min": 5, "max": 2})",
       {422, "invalid_value", "min is above max"}},
      {"POST",
       "/v1/scale",
       R"({"workers": 2})",
       {503, "busy", "the supervisor did not take the command in time"}},
  };
  for (const Case& c : cases) {
    backend_.commands.clear();
    backend_.result = c.result;
    Answer answer = Call(c.method, c.path, c.body);
    EXPECT_EQ(answer.status, c.result.status) << c.path;
    EXPECT_EQ(answer.body,
              json({{"error", c.result.error}, {"detail", c.result.detail}}))
        << c.path;
    EXPECT_EQ(backend_.commands.size(), 1u) << c.path;
  }
}

TEST_F(ControlApiTest, AnswersSurviveInvalidUtf8FromTheScoreboard) {
  Scoreboard::BeginRequest(&backend_.slots[0]->thread[1], 9, "GET",
                           "/caf\xc3\x28");
  Answer answer = Call("GET", "/v1/workers");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body["workers"][0]["busy_threads"], 3);
}

TEST(ConstantTimeEqualsTest, ComparesContentsAndLengths) {
  EXPECT_TRUE(ConstantTimeEquals("Bearer abc", "Bearer abc"));
  EXPECT_FALSE(ConstantTimeEquals("Bearer abc", "Bearer abd"));
  EXPECT_FALSE(ConstantTimeEquals("Bearer abc", "Bearer abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "Bearer abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace wsgid
