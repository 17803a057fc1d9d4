#include "daemon/pool_commands.h"

#include <string>

#include "common/log.h"
#include "daemon/systemd_notify.h"

namespace wsgid {

CommandResult PoolCommands::Apply(const Command& command, int64_t now_ns) {
  switch (command.kind) {
    case Command::Kind::kScale:
      p_.pool->SetDesired(command.value);
      return {200, "", "", p_.pool->desired()};
    case Command::Kind::kThreads:
      return Threads(command.value);
    case Command::Kind::kAutoscale:
      return p_.autoscaler->Configure(command, p_.config->max_workers);
    case Command::Kind::kReload:
      return Reload(now_ns);
    case Command::Kind::kRestartWorker:
    case Command::Kind::kKillWorker:
      return ToWorker(command);
    case Command::Kind::kStop:
      Log(LogLevel::kInfo) << (command.graceful ? "graceful" : "fast")
                           << " stop requested (control API)";
      p_.stop(command.graceful);
      return {202, "", "", 0};
  }
  return {};
}

void PoolCommands::Apply(const ScalerDecision& d) {
  // A step can change both (threads to the maximum and the workers the rest
  // needs).
  if (d.threads != p_.config->threads) SetThreads(d.threads);
  if (d.workers != p_.pool->desired()) p_.pool->SetDesired(d.workers);
}

void PoolCommands::SetThreads(int threads) {
  // Workers grow or shrink their thread pools in place; new workers start with
  // the new count.
  p_.config->threads = threads;
  p_.slots->SetDesiredThreads(threads);
}

CommandResult PoolCommands::Threads(int threads) {
  int most = MaxThreads(*p_.config);
  if (threads > most)
    return {422, "invalid_value",
            "threads must be between 1 and " + std::to_string(most) +
                " (--max-threads)",
            0};
  SetThreads(threads);
  return {200, "", "", threads};
}

CommandResult PoolCommands::Reload(int64_t now_ns) {
  NotifySystemd("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(now_ns / 1000));
  Status s = SwitchConfig(now_ns);
  NotifySystemd("READY=1");
  if (!s.ok())
    return {409, "reload_failed",
            s.message() + "; the running generation keeps serving", 0};
  return {202, "", "", p_.pool->generation()};
}

Status PoolCommands::SwitchConfig(int64_t now_ns) {
  auto next = p_.reload->Prepare(*p_.config, p_.listeners);
  if (!next.ok()) return next.status();
  *p_.config = std::move(next).value();
  ReopenErrorLog(*p_.config);
  if (p_.hooks != nullptr) p_.hooks->Reloaded(*p_.config, now_ns);
  p_.pool->Reload(PoolOptions::FromConfig(*p_.config), now_ns);
  return Status::Ok();
}

CommandResult PoolCommands::ToWorker(const Command& command) {
  bool restart = command.kind == Command::Kind::kRestartWorker;
  bool found =
      restart ? p_.pool->Restart(command.value) : p_.pool->Kill(command.value);
  if (!found)
    return {404, "not_found",
            "no serving worker with id " + std::to_string(command.value), 0};
  return {202, "", "", command.value};
}

}  // namespace wsgid
