#include "daemon/master_hooks.h"

#include <sys/wait.h>

#include "common/log.h"

namespace wsgid {
namespace {

// The exit as Python's subprocess reports it: the code, or -signal.
int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return -WTERMSIG(wait_status);
  return -1;
}

std::string WorkerJson(const std::string& pid, int age,
                       const std::string& exitcode = "null") {
  return ",\"worker\":{\"pid\":" + pid + ",\"age\":" + std::to_string(age) +
         ",\"exitcode\":" + exitcode + "}";
}

}  // namespace

void MasterHooks::Send(const char* hook, const std::string& extra) {
  if (!enabled_) return;
  channel_->Send(std::string("{\"hook\":\"") + hook + "\",\"num_workers\":" +
                 std::to_string(workers_) + extra + "}");
}

void MasterHooks::Starting(const Config& config, int workers, int64_t now_ns) {
  enabled_ = !config.worker_hooks_file.empty();
  channel_->Configure(config, now_ns);
  workers_ = workers;
  // Gunicorn's arbiter sets its worker count (nworkers_changed from None)
  // before it calls on_starting.
  Send("nworkers_changed",
       ",\"new_value\":" + std::to_string(workers) + ",\"old_value\":null");
  Send("on_starting");
}

void MasterHooks::Ready() { Send("when_ready"); }

void MasterHooks::Reloaded(const Config& config, int64_t now_ns) {
  bool was_enabled = enabled_;
  enabled_ = !config.worker_hooks_file.empty();
  if (was_enabled || enabled_) channel_->Configure(config, now_ns);
  Send("on_reload");
}

int MasterHooks::PreFork() {
  ++age_;
  Send("pre_fork", WorkerJson("\"[booting]\"", age_));
  return age_;
}

void MasterHooks::Forked(pid_t pid, int age) {
  if (enabled_) ages_[pid] = age;
}

void MasterHooks::ChildExited(pid_t pid, int wait_status) {
  auto it = ages_.find(pid);
  if (it == ages_.end()) return;
  int age = it->second;
  ages_.erase(it);
  Send("child_exit", WorkerJson(std::to_string(pid), age,
                                std::to_string(ExitCodeOf(wait_status))));
}

void MasterHooks::DesiredIs(int workers) {
  if (workers == workers_) return;
  int old = workers_;
  workers_ = workers;
  Send("nworkers_changed", ",\"new_value\":" + std::to_string(workers) +
                               ",\"old_value\":" + std::to_string(old));
}

void MasterHooks::PreExec(int64_t deadline_ns) {
  if (!enabled_) return;
  Send("pre_exec");
  if (!channel_->Drain(deadline_ns))
    Log(LogLevel::kWarning) << "hook helper: pre_exec did not finish in time; "
                               "starting the new master anyway";
}

void MasterHooks::Exiting(int64_t deadline_ns) {
  if (!enabled_) return;
  Send("on_exit");
  if (!channel_->Drain(deadline_ns))
    Log(LogLevel::kWarning) << "hook helper: on_exit did not finish in time";
}

void MasterHooks::Pump(int64_t now_ns) {
  if (enabled_) channel_->Pump(now_ns);
}

bool MasterHooks::OnReaped(pid_t pid, int wait_status, int64_t now_ns) {
  return channel_->OnReaped(pid, wait_status, now_ns);
}

}  // namespace wsgid
