// `wsgictl top`: a live view of the pool, refreshed every --interval seconds
// until q or Ctrl-C; --once prints a single frame without touching the terminal
// (for scripts, tests).
#pragma once

#include "common/status.h"
#include "ctl/command_args.h"
#include "ctl/session.h"

namespace wsgid::ctl {

StatusOr<int> TopCommand(Session& session, CommandArgs& args);

}  // namespace wsgid::ctl
