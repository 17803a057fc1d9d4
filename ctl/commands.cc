#include "ctl/commands.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "common/effective_settings.h"
#include "ctl/exit_codes.h"
#include "ctl/format.h"
#include "ctl/json_fields.h"
#include "ctl/views.h"

namespace wsgid::ctl {
namespace {

using nlohmann::json;

constexpr double kDefaultWaitReadySeconds = 60;
constexpr auto kWaitReadyPoll = std::chrono::milliseconds(200);

// Runs one call and prints its answer: the JSON with -o json, else
// `human(body)`.
template <typename Human>
int CallAndPrint(Session& session, const std::string& method,
                 const std::string& path, const std::optional<json>& body,
                 Human human) {
  CallResult result = session.Call(method, path, body);
  if (!result.ok()) return session.Fail(result);
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::fputs(human(result.body).c_str(), stdout);
  }
  return kExitOk;
}

// A whole number. Its range (1..max_workers, the thread limit) is the daemon's
// to check: only it knows the limits, and it says so in its refusal.
StatusOr<long long> ParseCount(const CommandArgs& args, const std::string& text,
                               const std::string& what) {
  auto value = ParseInteger(text, what);
  if (!value.ok()) return args.Error(value.status().message());
  return value;
}

}  // namespace

StatusOr<int> StatusCommand(Session& session, CommandArgs& args) {
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  return CallAndPrint(session, "GET", "/v1/status", std::nullopt, RenderStatus);
}

StatusOr<int> ConfigCommand(Session& session, CommandArgs& args) {
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  return CallAndPrint(
      session, "GET", "/v1/config", std::nullopt, [](const json& body) {
        std::vector<EffectiveSetting> settings;
        for (const json& s : Field(body, "settings"))
          settings.push_back({StringField(s, "name"), StringField(s, "value"),
                              StringField(s, "source")});
        return FormatSettingLines(settings);
      });
}

StatusOr<int> WorkersCommand(Session& session, CommandArgs& args) {
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  return CallAndPrint(
      session, "GET", "/v1/workers", std::nullopt,
      [](const json& body) { return WorkersTable(body, nullptr).Render(); });
}

StatusOr<int> ScaleCommand(Session& session, CommandArgs& args) {
  auto rest = args.Positionals(1, 1, "N, +N or -N");
  if (!rest.ok()) return rest.status();
  const std::string& word = (*rest)[0];
  auto value = ParseCount(args, word, "worker count");
  if (!value.ok()) return value.status();
  // A sign means "change by", as in `scale +2`; a bare number means "set to".
  bool relative = word[0] == '+' || word[0] == '-';
  json body = relative ? json{{"delta", *value}} : json{{"workers", *value}};
  return CallAndPrint(
      session, "POST", "/v1/scale", body, [](const json& answer) {
        return "desired workers: " +
               FormatCount(NumberField(answer, "desired")) + "\n";
      });
}

StatusOr<int> ThreadsCommand(Session& session, CommandArgs& args) {
  auto rest = args.Positionals(1, 1, "N");
  if (!rest.ok()) return rest.status();
  auto value = ParseCount(args, (*rest)[0], "thread count");
  if (!value.ok()) return value.status();
  return CallAndPrint(session, "POST", "/v1/threads", json{{"threads", *value}},
                      [](const json& answer) {
                        return "threads per worker: " +
                               FormatCount(NumberField(answer, "threads")) +
                               "\n";
                      });
}

StatusOr<int> ReloadCommand(Session& session, CommandArgs& args) {
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  return CallAndPrint(
      session, "POST", "/v1/reload", json::object(), [](const json& answer) {
        return "reload started: generation " +
               FormatCount(NumberField(answer, "generation")) + "\n";
      });
}

StatusOr<int> AutoscaleCommand(Session& session, CommandArgs& args) {
  auto min = args.TakeOption("--min");
  if (!min.ok()) return min.status();
  auto max = args.TakeOption("--max");
  if (!max.ok()) return max.status();
  auto rest = args.Positionals(0, 1, "on or off");
  if (!rest.ok()) return rest.status();
  if (rest->empty() && !*min && !*max) {
    return CallAndPrint(session, "GET", "/v1/autoscale", std::nullopt,
                        RenderAutoscale);
  }
  // Only what was given is sent: `autoscale --max 8` moves a bound and leaves
  // the switch.
  json body = json::object();
  if (!rest->empty()) {
    const std::string& word = (*rest)[0];
    if (word != "on" && word != "off") {
      return args.Error("expected on or off, got '" + word + "'");
    }
    body["enabled"] = word == "on";
  }
  for (auto [name, text] : {std::pair{"min", *min}, std::pair{"max", *max}}) {
    if (!text) continue;
    auto value = ParseCount(args, *text, std::string("--") + name);
    if (!value.ok()) return value.status();
    body[name] = *value;
  }
  if (body.contains("min") && body.contains("max") &&
      body["min"] > body["max"]) {
    return args.Error("--min " + body["min"].dump() + " is above --max " +
                      body["max"].dump());
  }
  return CallAndPrint(session, "PUT", "/v1/autoscale", body,
                      [](const json& answer) {
                        if (!answer.is_object() || answer.empty())
                          return std::string("autoscale updated\n");
                        return RenderAutoscale(answer);
                      });
}

StatusOr<int> WorkerCommand(Session& session, CommandArgs& args) {
  auto rest = args.Positionals(2, 2, "restart|kill ID");
  if (!rest.ok()) return rest.status();
  const std::string& action = (*rest)[0];
  if (action != "restart" && action != "kill") {
    return args.Error("expected restart or kill, got '" + action + "'");
  }
  auto id = ParseCount(args, (*rest)[1], "worker id");
  if (!id.ok()) return id.status();
  if (*id < 0) return args.Error("worker id " + (*rest)[1] + " is negative");
  std::string path = "/v1/workers/" + std::to_string(*id) + "/" + action;
  return CallAndPrint(session, "POST", path, json::object(), [&](const json&) {
    return "worker " + std::to_string(*id) + ": " + action + " requested\n";
  });
}

StatusOr<int> StopCommand(Session& session, CommandArgs& args) {
  auto graceful = args.TakeFlag("--graceful");
  if (!graceful.ok()) return graceful.status();
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  return CallAndPrint(session, "POST", "/v1/stop",
                      json{{"graceful", *graceful}}, [&](const json&) {
                        return std::string(*graceful
                                               ? "stopping wsgid (graceful)\n"
                                               : "stopping wsgid\n");
                      });
}

StatusOr<int> VersionCommand(Session& session, CommandArgs& args) {
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  CallResult result = session.Call("GET", "/v1/status");
  // No daemon is a normal answer to "which versions?"; anything stranger is
  // worth a note.
  if (!result.ok() && result.exit_code != kExitUnreachable) {
    std::fprintf(stderr, "wsgictl: daemon version unknown: %s\n",
                 result.error.c_str());
  }
  if (session.json()) {
    json out = {{"wsgictl", WSGID_VERSION}, {"wsgid", nullptr}};
    if (result.ok()) {
      out["wsgid"] = {{"version", Field(result.body, "version")},
                      {"pid", Field(result.body, "pid")}};
    }
    Session::PrintJson(out);
    return kExitOk;
  }
  std::printf("wsgictl %s\n", WSGID_VERSION);
  if (result.ok()) {
    std::printf("wsgid %s (pid %s) at %s\n",
                StringField(result.body, "version").c_str(),
                FormatCount(NumberField(result.body, "pid")).c_str(),
                session.client().endpoint().Describe().c_str());
  }
  return kExitOk;
}

StatusOr<int> WaitReadyCommand(Session& session, CommandArgs& args) {
  auto timeout_text = args.TakeOption("--timeout");
  if (!timeout_text.ok()) return timeout_text.status();
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  double timeout = kDefaultWaitReadySeconds;
  if (*timeout_text) {
    auto parsed = ParseSeconds(**timeout_text, "--timeout");
    if (!parsed.ok()) return args.Error(parsed.status().message());
    timeout = *parsed;
  }

  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
  CallResult last;
  while (true) {
    last = session.Call("GET", "/v1/status");
    // Unreachable is retried: the daemon may be starting right now (`wsgid &
    // wsgictl wait-ready` is the point of the command). A refusal or a bad
    // token will not heal.
    if (!last.ok() && last.exit_code != kExitUnreachable)
      return session.Fail(last);
    if (last.ok()) {
      const json& pool = Field(last.body, "pool");
      double ready = NumberField(pool, "ready").value_or(0);
      double desired = NumberField(pool, "desired").value_or(0);
      if (ready >= 1 && ready >= desired) {
        if (session.json()) {
          Session::PrintJson(last.body);
        } else {
          std::printf("ready: %s/%s workers\n", FormatCount(ready).c_str(),
                      FormatCount(desired).c_str());
        }
        return kExitOk;
      }
    }
    if (Clock::now() + kWaitReadyPoll > deadline) break;
    std::this_thread::sleep_for(kWaitReadyPoll);
  }
  if (!last.ok()) {
    last.error += " (retried for " + FormatSeconds(timeout) + ")";
    return session.Fail(last);
  }
  std::fprintf(stderr, "wsgictl: wait-ready: timed out after %s: workers %s\n",
               FormatSeconds(timeout).c_str(), PoolSummary(last.body).c_str());
  if (session.json()) Session::PrintJson(last.body);
  return kExitTimeout;
}

}  // namespace wsgid::ctl
