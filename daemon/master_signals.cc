#include "daemon/master_signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace wsgid {

const std::vector<int>& MasterSignals() {
  static const std::vector<int> signals = {SIGCHLD, SIGTERM, SIGINT,
                                           SIGQUIT, SIGHUP,  SIGTTIN,
                                           SIGTTOU, SIGUSR1, SIGUSR2};
  return signals;
}

SignalAction ActionForSignal(int signo) {
  switch (signo) {
    case SIGTERM:
      return SignalAction::kGracefulStop;
    case SIGINT:
    case SIGQUIT:
      return SignalAction::kFastStop;
    case SIGHUP:
      return SignalAction::kReload;
    case SIGTTIN:
      return SignalAction::kAddWorker;
    case SIGTTOU:
      return SignalAction::kRemoveWorker;
    case SIGUSR1:
      return SignalAction::kReopenLogs;
    case SIGUSR2:
      return SignalAction::kReExec;
    default:
      return SignalAction::kNone;
  }
}

StatusOr<UniqueFd> OpenMasterSignalFd() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : MasterSignals()) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  UniqueFd fd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return Status::FromErrno("signalfd", errno);
  return fd;
}

std::vector<int> ReadSignals(int signal_fd) {
  std::vector<int> signals;
  signalfd_siginfo info;
  while (::read(signal_fd, &info, sizeof info) == sizeof info)
    signals.push_back(static_cast<int>(info.ssi_signo));
  return signals;
}

}  // namespace wsgid
