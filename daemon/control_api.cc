#include "daemon/control_api.h"

#include <httplib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/http_util.h"
#include "daemon/proc_stats.h"

namespace wsgid {
namespace {

using nlohmann::json;


std::pair<int, std::string> Error(int status, const std::string& error,
                                  const std::string& detail) {
  return {status, json{{"error", error}, {"detail", detail}}.dump(
                      -1, ' ', false, json::error_handler_t::replace)};
}

// Parses a JSON object body whose fields all appear in `allowed`.
StatusOr<json> ParseObject(const std::string& body,
                           std::initializer_list<const char*> allowed) {
  json doc;
  try {
    doc = body.empty() ? json::object() : json::parse(body);
  } catch (const json::exception& e) {
    return Status::Error(StatusCode::kMalformed, std::string("malformed JSON: ") + e.what());
  }
  if (!doc.is_object()) return Status::Error(StatusCode::kMalformed, "the body must be a JSON object");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    bool known = false;
    for (const char* name : allowed) known |= it.key() == name;
    if (!known) return Status::InvalidArgument("unknown field '" + it.key() + "'");
  }
  return doc;
}

std::pair<int, std::string> FromResult(const CommandResult& r,
                                       const json& ok_body) {
  if (r.status >= 400) return Error(r.status, r.error, r.detail);
  return {r.status,
          ok_body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& probe =
      a.size() == b.size() ? b : a;  // same length as a either way
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ probe[i]);
  return diff == 0;
}

ControlApi::ControlApi(ControlBackend* backend, Options options)
    : backend_(backend), options_(std::move(options)), started_ns_(MonotonicNs()) {}

ControlApi::~ControlApi() { Stop(); }

Status ControlApi::Start() {
  auto install = [this](httplib::Server* server, bool tcp) {
    ConfigureSmallServer(server, 16 * 1024);
    auto handler = [this, tcp](const httplib::Request& req,
                               httplib::Response& res) {
      Serve(req, res, tcp);
    };
    server->Get(".*", handler);
    server->Post(".*", handler);
    server->Put(".*", handler);
    server->Delete(".*", handler);
    server->Patch(".*", handler);
  };
  if (!options_.socket_path.empty()) {
    unix_server_ = std::make_unique<httplib::Server>();
    install(unix_server_.get(), false);
    if (Status s = ListenUnix(unix_server_.get(), options_.socket_path,
                              options_.socket_mode, &unix_thread_);
        !s.ok())
      return s;
  }
  if (!options_.tcp_bind.empty()) {
    if (options_.token.empty())
      return Status::InvalidArgument(
          "--control-bind needs --control-token-file (a TCP control port "
          "without a token would let anyone who reaches it steer wsgid)");
    tcp_server_ = std::make_unique<httplib::Server>();
    install(tcp_server_.get(), true);
    if (Status s =
            ListenTcp(tcp_server_.get(), options_.tcp_bind, &tcp_thread_);
        !s.ok())
      return s;
  }
  return Status::Ok();
}

void ControlApi::Stop() {
  if (unix_server_) unix_server_->stop();
  if (tcp_server_) tcp_server_->stop();
  if (unix_thread_.joinable()) unix_thread_.join();
  if (tcp_thread_.joinable()) tcp_thread_.join();
  if (unix_server_ && !options_.socket_path.empty())
    ::unlink(options_.socket_path.c_str());
  unix_server_.reset();
  tcp_server_.reset();
}

void ControlApi::Serve(const httplib::Request& req, httplib::Response& res,
                       bool tcp) {
  std::pair<int, std::string> answer;
  if (tcp) {
    std::string auth = req.get_header_value("Authorization");
    std::string expected = "Bearer " + options_.token;
    if (!ConstantTimeEquals(auth, expected)) {
      answer = Error(401, "unauthorized", "missing or wrong bearer token");
      res.set_header("WWW-Authenticate", "Bearer");
      res.status = answer.first;
      res.set_content(answer.second, "application/json");
      return;
    }
  }
  std::string client =
      tcp ? req.remote_addr + ":" + std::to_string(req.remote_port)
          : "the control socket";
  answer = Dispatch(req.method, req.path, req.body, client);
  res.status = answer.first;
  res.set_content(answer.second + "\n", "application/json");
}

std::pair<int, std::string> ControlApi::Dispatch(const std::string& method,
                                                 const std::string& path,
                                                 const std::string& body,
                                                 const std::string& client) {
  auto wrong_method = [&](const char* allowed) {
    return Error(405, "method_not_allowed",
                 method + " " + path + ": use " + allowed);
  };
  auto log_change = [&](const std::string& what) {
    Log(LogLevel::kInfo) << "control API: " << what << " (asked by " << client
                         << ")";
  };
  auto execute = [&](Command command, const std::string& what,
                     const json& ok_body_with_value, const char* value_key) {
    log_change(what);
    CommandResult result = backend_->Execute(command);
    json ok = ok_body_with_value;
    if (value_key != nullptr) ok[value_key] = result.value;
    return FromResult(result, ok);
  };

  if (path == "/v1/status") {
    if (method != "GET") return wrong_method("GET");
    PoolSnapshot pool = backend_->Snapshot();
    int busy = 0;
    for (const auto& w : pool.workers)
      if (const WorkerSlot* slot = backend_->Slot(w.id))
        busy += BusyThreads(*slot);
    int ready = pool.CountInState(WorkerState::kReady);
    int starting = pool.CountInState(WorkerState::kStarting);
    int draining = pool.CountInState(WorkerState::kDraining);
    json doc = {
        {"version", options_.version},
        {"pid", ::getpid()},
        {"uptime_seconds",
         static_cast<double>(MonotonicNs() - pool.started_ns) / 1e9},
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
    return {200, doc.dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  if (path == "/v1/workers") {
    if (method != "GET") return wrong_method("GET");
    PoolSnapshot pool = backend_->Snapshot();
    int64_t now = MonotonicNs();
    json list = json::array();
    for (const auto& w : pool.workers) {
      const WorkerSlot* slot = backend_->Slot(w.id);
      int busy = 0;
      json current = json::array();
      double heartbeat_age = 0;
      uint64_t requests = 0, connections = 0;
      if (slot != nullptr) {
        heartbeat_age = std::max<double>(
            0, static_cast<double>(
                   now - slot->heartbeat_ns.load(std::memory_order_relaxed)) /
                   1e9);
        requests = slot->requests.load(std::memory_order_relaxed);
        connections = slot->connections.load(std::memory_order_relaxed);
        for (int t = 0; t < WorkerThreads(*slot); ++t) {
          ThreadActivity a = Scoreboard::Read(slot->thread[t]);
          if (!a.busy) continue;
          ++busy;
          // The path without its query string (secrets stay out): the
          // scoreboard only ever holds the path.
          current.push_back(
              {{"thread", t},
               {"method", a.method},
               {"path", a.path},
               {"seconds",
                std::max<double>(
                    0, static_cast<double>(now - a.request_start_ns) / 1e9)}});
        }
      }
      list.push_back({{"id", w.id},
                      {"pid", w.pid},
                      {"generation", w.generation},
                      {"state", std::string(WorkerStateName(w.state))},
                      {"threads", slot ? WorkerThreads(*slot) : 0},
                      {"busy_threads", busy},
                      {"requests", requests},
                      {"connections", connections},
                      {"rss_bytes", ResidentBytes(w.pid)},
                      {"heartbeat_age_seconds", heartbeat_age},
                      {"current", current}});
    }
    return {200, json{{"workers", list}}.dump(-1, ' ', false,
                                              json::error_handler_t::replace)};
  }
  if (path == "/v1/scale") {
    if (method != "POST") return wrong_method("POST");
    auto doc = ParseObject(body, {"workers", "delta"});
    if (!doc.ok()) return Error(400, "bad_request", doc.status().message());
    bool has_workers = doc->contains("workers"),
         has_delta = doc->contains("delta");
    if (has_workers == has_delta)
      return Error(400, "bad_request",
                   "give exactly one of 'workers' and 'delta'");
    const json& v = has_workers ? (*doc)["workers"] : (*doc)["delta"];
    if (!v.is_number_integer())
      return Error(422, "invalid_value",
                   std::string(has_workers ? "'workers'" : "'delta'") +
                       " must be an integer");
    int64_t target = v.get<int64_t>();
    if (target > (1 << 20) || target < -(1 << 20))  // no overflow below
      return Error(422, "invalid_value",
                   "workers must be between 1 and " +
                       std::to_string(options_.max_workers));
    if (has_delta) target += backend_->Snapshot().desired;
    if (target < 1 || target > options_.max_workers)
      return Error(422, "invalid_value",
                   "workers must be between 1 and " +
                       std::to_string(options_.max_workers) +
                       " (--max-workers); asked for " + std::to_string(target));
    Command c{Command::Kind::kScale, static_cast<int>(target)};
    return execute(c, "scale to " + std::to_string(target) + " workers",
                   json::object(), "desired");
  }
  if (path == "/v1/threads") {
    if (method != "POST") return wrong_method("POST");
    auto doc = ParseObject(body, {"threads"});
    if (!doc.ok()) return Error(400, "bad_request", doc.status().message());
    if (!doc->contains("threads"))
      return Error(400, "bad_request", "'threads' is required");
    const json& v = (*doc)["threads"];
    if (!v.is_number_integer())
      return Error(422, "invalid_value", "'threads' must be an integer");
    int64_t threads = v.get<int64_t>();
    if (threads < 1 || threads > kMaxThreadsPerWorker)
      return Error(422, "invalid_value",
                   "threads must be between 1 and " +
                       std::to_string(kMaxThreadsPerWorker));
    Command c{Command::Kind::kThreads, static_cast<int>(threads)};
    return execute(c, "set " + std::to_string(threads) + " threads per worker",
                   json::object(), "threads");
  }
  if (path == "/v1/reload") {
    if (method != "POST") return wrong_method("POST");
    auto doc = ParseObject(body, {});
    if (!doc.ok()) return Error(400, "bad_request", doc.status().message());
    return execute({Command::Kind::kReload}, "reload", json::object(),
                   "generation");
  }
  if (path == "/v1/autoscale") {
    if (method == "GET") {
      PoolSnapshot pool = backend_->Snapshot();
      json decisions = json::object();
      for (const auto& [key, count] : pool.decisions) decisions[key] = count;
      return {200, json{{"enabled", pool.autoscale},
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
                        {"recent", pool.recent_decisions}}
                       .dump(-1, ' ', false, json::error_handler_t::replace)};
    }
    if (method != "PUT") return wrong_method("GET, PUT");
    auto doc = ParseObject(body, {"enabled", "min", "max"});
    if (!doc.ok()) return Error(400, "bad_request", doc.status().message());
    Command c{Command::Kind::kAutoscale};
    if (doc->contains("enabled")) {
      if (!(*doc)["enabled"].is_boolean())
        return Error(422, "invalid_value", "'enabled' must be true or false");
      c.enabled = (*doc)["enabled"].get<bool>() ? 1 : 0;
    }
    for (const char* bound : {"min", "max"}) {
      if (!doc->contains(bound)) continue;
      const json& v = (*doc)[bound];
      if (!v.is_number_integer() || v.get<int64_t>() < 1 ||
          v.get<int64_t>() > options_.max_workers)
        return Error(422, "invalid_value",
                     std::string("'") + bound +
                         "' must be a worker count between 1 and " +
                         std::to_string(options_.max_workers));
      (std::string(bound) == "min" ? c.min : c.max) =
          static_cast<int>(v.get<int64_t>());
    }
    return execute(c, "autoscale " + doc->dump(), json::object(), nullptr);
  }
  if (path == "/v1/stop") {
    if (method != "POST") return wrong_method("POST");
    auto doc = ParseObject(body, {"graceful"});
    if (!doc.ok()) return Error(400, "bad_request", doc.status().message());
    bool graceful = true;
    if (doc->contains("graceful")) {
      if (!(*doc)["graceful"].is_boolean())
        return Error(422, "invalid_value", "'graceful' must be true or false");
      graceful = (*doc)["graceful"].get<bool>();
    }
    Command c{Command::Kind::kStop, 0, graceful};
    return execute(c, graceful ? "graceful stop" : "fast stop",
                   json{{"stopping", true}}, nullptr);
  }
  static const std::regex kWorkerAction(
      "^/v1/workers/([0-9]{1,6})/(restart|kill)$");
  std::smatch m;
  if (std::regex_match(path, m, kWorkerAction)) {
    if (method != "POST") return wrong_method("POST");
    int id = std::stoi(m[1].str());
    bool restart = m[2].str() == "restart";
    Command c{
        restart ? Command::Kind::kRestartWorker : Command::Kind::kKillWorker,
        id};
    return execute(
        c, (restart ? "restart worker " : "kill worker ") + std::to_string(id),
        json::object(), "id");
  }
  return Error(404, "not_found", "no such endpoint: " + path);
}

}  // namespace wsgid
