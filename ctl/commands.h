// The one-shot commands: each parses its own arguments, makes its API calls and
// prints the answer. They return the process exit code, or an error Status for
// a usage error (reported by the caller, before anything was sent).
#pragma once

#include "common/status.h"
#include "ctl/command_args.h"
#include "ctl/session.h"

namespace wsgid::ctl {

StatusOr<int> StatusCommand(Session& session, CommandArgs& args);
StatusOr<int> WorkersCommand(Session& session, CommandArgs& args);
StatusOr<int> ScaleCommand(Session& session, CommandArgs& args);
StatusOr<int> ThreadsCommand(Session& session, CommandArgs& args);
StatusOr<int> ReloadCommand(Session& session, CommandArgs& args);
StatusOr<int> AutoscaleCommand(Session& session, CommandArgs& args);
StatusOr<int> WorkerCommand(Session& session, CommandArgs& args);
StatusOr<int> StopCommand(Session& session, CommandArgs& args);
StatusOr<int> VersionCommand(Session& session, CommandArgs& args);
StatusOr<int> WaitReadyCommand(Session& session, CommandArgs& args);
// `wsgictl config`: the running settings as `wsgid --print-config` prints
// them (-o json: with each one's source).
StatusOr<int> ConfigCommand(Session& session, CommandArgs& args);

}  // namespace wsgid::ctl
