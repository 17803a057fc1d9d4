#include "ctl/top.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "ctl/exit_codes.h"
#include "ctl/format.h"
#include "ctl/terminal.h"
#include "ctl/top_frame.h"

namespace wsgid::ctl {
namespace {

constexpr double kDefaultIntervalSeconds = 1.0;

// Both calls of one frame; the failed call's result when either fails.
CallResult Fetch(Session& session, TopSample* sample) {
  CallResult status = session.Call("GET", "/v1/status");
  if (!status.ok()) return status;
  CallResult workers = session.Call("GET", "/v1/workers");
  if (!workers.ok()) return workers;
  sample->status = std::move(status.body);
  sample->workers = std::move(workers.body);
  return {};
}

int RunOnce(Session& session, double interval) {
  // Two samples an interval apart, so the frame has the same rates as the live
  // view's.
  RequestRates rates;
  TopSample sample;
  for (int i = 0; i < 2; ++i) {
    if (i > 0)
      std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    CallResult result = Fetch(session, &sample);
    if (!result.ok()) return session.Fail(result);
    rates.Update(sample.workers, RequestRates::Clock::now());
  }
  for (const std::string& line : RenderTopFrame(sample, rates, "")) {
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

}  // namespace

StatusOr<int> TopCommand(Session& session, CommandArgs& args) {
  auto interval_text = args.TakeOption("--interval");
  if (!interval_text.ok()) return interval_text.status();
  auto once = args.TakeFlag("--once");
  if (!once.ok()) return once.status();
  if (auto rest = args.Positionals(0, 0, ""); !rest.ok()) return rest.status();
  double interval = kDefaultIntervalSeconds;
  if (*interval_text) {
    auto parsed = ParseSeconds(**interval_text, "--interval");
    if (!parsed.ok()) return args.Error(parsed.status().message());
    interval = *parsed;
  }
  if (session.json()) {
    return args.Error(
        "has no JSON output; use `-o json status` and `-o json workers`");
  }
  if (*once) return RunOnce(session, interval);

  // The first sample before the terminal changes: a daemon that is not there is
  // an ordinary error with its exit code, not an empty screen.
  RequestRates rates;
  TopSample sample;
  if (CallResult first = Fetch(session, &sample); !first.ok())
    return session.Fail(first);
  rates.Update(sample.workers, RequestRates::Clock::now());

  auto terminal = RawTerminal::Enter();
  if (!terminal.ok()) return args.Error(terminal.status().message());
  std::string problem;
  std::string hint = "q quits; refresh every " + FormatSeconds(interval);
  while (true) {
    std::vector<std::string> lines = RenderTopFrame(sample, rates, problem);
    lines.push_back("");
    lines.push_back(hint);
    (*terminal)->Draw(lines);
    auto event = (*terminal)->Wait(std::chrono::duration<double>(interval));
    if (event == RawTerminal::Event::kQuit) break;
    if (event == RawTerminal::Event::kResize)
      continue;  // redraw at the new size now
    TopSample next;
    CallResult result = Fetch(session, &next);
    if (result.ok()) {
      sample = std::move(next);
      rates.Update(sample.workers, RequestRates::Clock::now());
      problem.clear();
    } else {
      // Keep the last frame, say why it is stale, and keep trying: a restarting
      // daemon comes back, and the user decides when to leave. Only the first
      // line of the message: the frame has one line for it.
      problem = result.error.substr(0, result.error.find('\n')) + " (retrying)";
    }
  }
  return kExitOk;
}

}  // namespace wsgid::ctl
