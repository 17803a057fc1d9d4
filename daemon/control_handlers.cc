#include "daemon/control_handlers.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/proc_stats.h"

namespace wsgid {
namespace {

using nlohmann::json;

// Seconds from `since_ns` to `now_ns`, never negative (the scoreboard is the
// workers' word, and a clock read there may be ahead of ours).
double SecondsSince(int64_t since_ns, int64_t now_ns) {
  return std::max<double>(0, static_cast<double>(now_ns - since_ns) / 1e9);
}

// The requests `slot`'s threads are in now; `*busy` counts them.
json CurrentRequests(const WorkerSlot& slot, int64_t now_ns, int* busy) {
  json current = json::array();
  for (int t = 0; t < WorkerThreads(slot); ++t) {
    ThreadActivity a = Scoreboard::Read(slot.thread[t]);
    if (!a.busy) continue;
    ++*busy;
    // The path without its query string (secrets stay out): the scoreboard
    // only ever holds the path.
    current.push_back({{"thread", t},
                       {"method", a.method},
                       {"path", a.path},
                       {"seconds", SecondsSince(a.request_start_ns, now_ns)}});
  }
  return current;
}

// One entry of /v1/workers; `slot` is null when the worker has none (yet).
json WorkerJson(const PoolSnapshot::Worker& w, const WorkerSlot* slot,
                int64_t now_ns) {
  int busy = 0;
  json current = json::array();
  double heartbeat_age = 0;
  uint64_t requests = 0, connections = 0;
  if (slot != nullptr) {
    heartbeat_age = HeartbeatAgeSeconds(*slot, now_ns);
    requests = slot->requests.load(std::memory_order_relaxed);
    connections = slot->connections.load(std::memory_order_relaxed);
    current = CurrentRequests(*slot, now_ns, &busy);
  }
  return {{"id", w.id},
          {"pid", w.pid},
          {"generation", w.generation},
          {"state", std::string(WorkerStateName(w.state))},
          {"threads", slot ? WorkerThreads(*slot) : 0},
          {"busy_threads", busy},
          {"requests", requests},
          {"connections", connections},
          {"rss_bytes", ResidentBytes(w.pid)},
          {"heartbeat_age_seconds", heartbeat_age},
          {"current", current}};
}

// Logs the change with who asked, has the supervisor apply it and answers
// with the outcome: `ok_body`, plus the value the supervisor reports under
// `value_key` when there is one; a refusal in the supervisor's own words.
ApiAnswer ApplyChange(const ControlContext& context,
                      const ControlRequest& request, const Command& command,
                      const std::string& what, json ok_body,
                      const char* value_key) {
  Log(LogLevel::kInfo) << "control API: " << what << " (asked by "
                       << request.client << ")";
  CommandResult result = context.backend->Execute(command);
  if (result.status >= 400)
    return ErrorAnswer(result.status, result.error, result.detail);
  if (value_key != nullptr) ok_body[value_key] = result.value;
  return JsonAnswer(result.status, ok_body);
}

// The worker count a scale body asks for: "workers" as is, or "delta" added
// to the current target; within 1..--max-workers.
StatusOr<int> ScaleTarget(const ControlContext& context, const json& doc) {
  bool has_workers = doc.contains("workers"), has_delta = doc.contains("delta");
  if (has_workers == has_delta)
    return Status::Error(StatusCode::kMalformed,
                         "give exactly one of 'workers' and 'delta'");
  const json& v = has_workers ? doc["workers"] : doc["delta"];
  if (!v.is_number_integer())
    return Status::InvalidArgument(
        std::string(has_workers ? "'workers'" : "'delta'") +
        " must be an integer");
  std::string bounds =
      "workers must be between 1 and " + std::to_string(context.max_workers);
  int64_t target = v.get<int64_t>();
  if (target > (1 << 20) || target < -(1 << 20))  // no overflow below
    return Status::InvalidArgument(bounds);
  if (has_delta) target += context.backend->Snapshot().desired;
  if (target < 1 || target > context.max_workers)
    return Status::InvalidArgument(bounds + " (--max-workers); asked for " +
                                   std::to_string(target));
  return static_cast<int>(target);
}

// `doc[name]` as a boolean, when present (else `*out` is left alone).
Status ReadBool(const json& doc, const char* name, bool* out) {
  if (!doc.contains(name)) return Status::Ok();
  if (!doc[name].is_boolean())
    return Status::InvalidArgument(std::string("'") + name +
                                   "' must be true or false");
  *out = doc[name].get<bool>();
  return Status::Ok();
}

// The kAutoscale command of a PUT /v1/autoscale body.
StatusOr<Command> AutoscaleCommand(const ControlContext& context,
                                   const json& doc) {
  Command c{Command::Kind::kAutoscale};
  if (doc.contains("enabled")) {
    bool enabled = false;
    if (Status s = ReadBool(doc, "enabled", &enabled); !s.ok()) return s;
    c.enabled = enabled ? 1 : 0;
  }
  for (const char* bound : {"min", "max"}) {
    if (!doc.contains(bound)) continue;
    const json& v = doc[bound];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 ||
        v.get<int64_t>() > context.max_workers)
      return Status::InvalidArgument(std::string("'") + bound +
                                     "' must be a worker count between 1 and " +
                                     std::to_string(context.max_workers));
    (std::string(bound) == "min" ? c.min : c.max) =
        static_cast<int>(v.get<int64_t>());
  }
  return c;
}

// Restart or kill the worker named in the path.
ApiAnswer WorkerAction(const ControlContext& context,
                       const ControlRequest& request, bool restart) {
  int id = std::stoi(request.params.at(0));
  Command c{
      restart ? Command::Kind::kRestartWorker : Command::Kind::kKillWorker, id};
  return ApplyChange(
      context, request, c,
      (restart ? "restart worker " : "kill worker ") + std::to_string(id),
      json::object(), "id");
}

}  // namespace

ApiAnswer GetStatus(const ControlContext& context, const ControlRequest&) {
  PoolSnapshot pool = context.backend->Snapshot();
  int busy = 0;
  for (const auto& w : pool.workers)
    if (const WorkerSlot* slot = context.backend->Slot(w.id))
      busy += BusyThreads(*slot);
  int ready = pool.CountInState(WorkerState::kReady);
  int starting = pool.CountInState(WorkerState::kStarting);
  int draining = pool.CountInState(WorkerState::kDraining);
  json answer = {
      {"version", context.version},
      {"pid", ::getpid()},
      {"uptime_seconds", SecondsSince(pool.started_ns, MonotonicNs())},
      {"generation", pool.generation},
      {"pool",
       {{"desired", pool.desired},
        {"live", starting + ready + draining},
        {"ready", ready},
        {"starting", starting},
        {"draining", draining},
        {"threads", pool.threads},
        {"busy_threads", busy}}},
      {"autoscale", {{"enabled", pool.autoscale}}},
      {"listeners", pool.listeners},
      {"max_workers", pool.max_workers},
  };
  if (pool.preload)  // issue 16: the zygote is not a worker
    answer["preload"] = {{"pid", pool.preload->pid},
                         {"generation", pool.preload->generation},
                         {"state", pool.preload->state}};
  return JsonAnswer(200, answer);
}

ApiAnswer GetWorkers(const ControlContext& context, const ControlRequest&) {
  PoolSnapshot pool = context.backend->Snapshot();
  int64_t now = MonotonicNs();
  json list = json::array();
  for (const auto& w : pool.workers)
    list.push_back(WorkerJson(w, context.backend->Slot(w.id), now));
  return JsonAnswer(200, json{{"workers", list}});
}

ApiAnswer GetConfig(const ControlContext& context, const ControlRequest&) {
  nlohmann::json settings = nlohmann::json::array();
  for (const EffectiveSetting& s : context.backend->Snapshot().settings)
    settings.push_back(
        {{"name", s.name}, {"value", s.value}, {"source", s.source}});
  return JsonAnswer(200, {{"settings", settings}});
}

ApiAnswer GetAutoscale(const ControlContext& context, const ControlRequest&) {
  PoolSnapshot pool = context.backend->Snapshot();
  json decisions = json::object();
  for (const auto& [key, count] : pool.decisions) decisions[key] = count;
  return JsonAnswer(200, json{{"enabled", pool.autoscale},
                              {"workers", pool.desired},
                              {"threads", pool.threads},
                              {"min_workers", pool.min_workers},
                              {"max_workers", pool.autoscale_max_workers},
                              {"min_threads", pool.min_threads},
                              {"max_threads", pool.max_threads},
                              {"cores", pool.cores},
                              {"rule_of_thumb_workers", 2 * pool.cores + 1},
                              {"memory_budget_bytes", pool.memory_budget_bytes},
                              {"decisions", decisions},
                              {"recent", pool.recent_decisions}});
}

ApiAnswer PostScale(const ControlContext& context,
                    const ControlRequest& request) {
  auto doc = ParseObject(request.body, {"workers", "delta"});
  if (!doc.ok()) return ErrorAnswer(doc.status());
  auto target = ScaleTarget(context, *doc);
  if (!target.ok()) return ErrorAnswer(target.status());
  Command c{Command::Kind::kScale, *target};
  return ApplyChange(context, request, c,
                     "scale to " + std::to_string(*target) + " workers",
                     json::object(), "desired");
}

ApiAnswer PostThreads(const ControlContext& context,
                      const ControlRequest& request) {
  auto doc = ParseObject(request.body, {"threads"});
  if (!doc.ok()) return ErrorAnswer(doc.status());
  if (!doc->contains("threads"))
    return ErrorAnswer(
        Status::Error(StatusCode::kMalformed, "'threads' is required"));
  const json& v = (*doc)["threads"];
  if (!v.is_number_integer())
    return ErrorAnswer(Status::InvalidArgument("'threads' must be an integer"));
  int64_t threads = v.get<int64_t>();
  if (threads < 1 || threads > kMaxThreadsPerWorker)
    return ErrorAnswer(
        Status::InvalidArgument("threads must be between 1 and " +
                                std::to_string(kMaxThreadsPerWorker)));
  Command c{Command::Kind::kThreads, static_cast<int>(threads)};
  return ApplyChange(context, request, c,
                     "set " + std::to_string(threads) + " threads per worker",
                     json::object(), "threads");
}

ApiAnswer PostReload(const ControlContext& context,
                     const ControlRequest& request) {
  auto doc = ParseObject(request.body, {});
  if (!doc.ok()) return ErrorAnswer(doc.status());
  return ApplyChange(context, request, {Command::Kind::kReload}, "reload",
                     json::object(), "generation");
}

ApiAnswer PutAutoscale(const ControlContext& context,
                       const ControlRequest& request) {
  auto doc = ParseObject(request.body, {"enabled", "min", "max"});
  if (!doc.ok()) return ErrorAnswer(doc.status());
  auto command = AutoscaleCommand(context, *doc);
  if (!command.ok()) return ErrorAnswer(command.status());
  return ApplyChange(context, request, *command, "autoscale " + doc->dump(),
                     json::object(), nullptr);
}

ApiAnswer PostStop(const ControlContext& context,
                   const ControlRequest& request) {
  auto doc = ParseObject(request.body, {"graceful"});
  if (!doc.ok()) return ErrorAnswer(doc.status());
  bool graceful = true;
  if (Status s = ReadBool(*doc, "graceful", &graceful); !s.ok())
    return ErrorAnswer(s);
  Command c{Command::Kind::kStop, 0, graceful};
  return ApplyChange(context, request, c,
                     graceful ? "graceful stop" : "fast stop",
                     json{{"stopping", true}}, nullptr);
}

ApiAnswer PostRestartWorker(const ControlContext& context,
                            const ControlRequest& request) {
  return WorkerAction(context, request, true);
}

ApiAnswer PostKillWorker(const ControlContext& context,
                         const ControlRequest& request) {
  return WorkerAction(context, request, false);
}

}  // namespace wsgid
