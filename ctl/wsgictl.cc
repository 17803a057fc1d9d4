#include "ctl/wsgictl.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "ctl/commands.h"
#include "ctl/exit_codes.h"
#include "ctl/options.h"
#include "ctl/top.h"

namespace wsgid::ctl {
namespace {

using CommandFn = StatusOr<int> (*)(Session&, CommandArgs&);

struct CommandEntry {
  const char* name;
  CommandFn run;
};

constexpr CommandEntry kCommands[] = {
    {"status", StatusCommand},        {"workers", WorkersCommand},
    {"scale", ScaleCommand},          {"threads", ThreadsCommand},
    {"reload", ReloadCommand},        {"autoscale", AutoscaleCommand},
    {"worker", WorkerCommand},        {"top", TopCommand},
    {"wait-ready", WaitReadyCommand}, {"stop", StopCommand},
    {"version", VersionCommand},      {"config", ConfigCommand},
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "wsgictl: %s\n(see wsgictl --help)\n", message.c_str());
  return kExitUsage;
}

}  // namespace

int Main(const std::vector<std::string>& args) {
  // A daemon that closes the connection mid-request must give an error, not
  // kill us.
  std::signal(SIGPIPE, SIG_IGN);

  const char* env_socket = std::getenv("WSGICTL_SOCKET");
  auto line = ParseCommandLine(
      args, env_socket ? std::optional<std::string>(env_socket) : std::nullopt);
  if (!line.ok()) return UsageError(line.status().message());
  if (line->help) {
    std::fputs(UsageText().c_str(), stdout);
    return kExitOk;
  }
  if (line->words.empty()) return UsageError("no command given");

  const std::string& name = line->words[0];
  const CommandEntry* entry = nullptr;
  for (const CommandEntry& candidate : kCommands) {
    if (name == candidate.name) entry = &candidate;
  }
  if (entry == nullptr) return UsageError("unknown command '" + name + "'");

  auto endpoint = ResolveEndpoint(line->endpoint);
  if (!endpoint.ok()) return UsageError(endpoint.status().message());
  Session session(ControlClient(std::move(endpoint).value()), line->format);
  CommandArgs command_args(name, {line->words.begin() + 1, line->words.end()});
  auto exit_code = entry->run(session, command_args);
  if (!exit_code.ok()) return UsageError(exit_code.status().message());
  std::fflush(stdout);
  return *exit_code;
}

}  // namespace wsgid::ctl
