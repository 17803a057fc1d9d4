// Process titles (issue 15, Gunicorn's -n/--name): what ps and top show for a
// process, "wsgid: master [NAME]" or "wsgid: worker [NAME]", as Gunicorn's
// setproctitle does.
//
// The title is written over the process's own argument memory (what
// /proc/PID/cmdline, and so ps, shows), extended over the environment strings
// when the arguments are too short (the environment is copied first, so
// getenv keeps working), and into the kernel's 15-byte task name (what top
// shows by default; truncated). Call once, from main, before any thread
// starts; copy argv first (it is overwritten).
#pragma once

#include <string>

namespace wsgid {

// REQUIRES: `argv` is main's, null-terminated; no other thread running.
void SetProcessTitle(char** argv, const std::string& title);

}  // namespace wsgid
