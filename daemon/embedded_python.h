// EmbeddedPython: which CPython the worker binary embeds, as the master learns
// it. The master links no Python (DESIGN: it never runs Python in-process), so
// it asks its sibling wsgid-worker (`wsgid-worker --python-version`, which
// answers without starting the interpreter). One binary of wsgid serves
// workers built against any CPython 3.9 to 3.13 (the version matrix pairs the
// default build's master with per-version workers).
//
// Called by main at start (--version, and the --virtualenv check, also under
// --check-config), on the main thread before any other thread exists, and on
// a reload by the supervisor's thread (the thread that reaps workers: the
// child is waited for by its pid before the loop reaps again, as the
// gunicorn.conf.py reader's is).
#pragma once

#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

struct EmbeddedPython {
  std::string version;     // "3.12.1"
  std::string executable;  // the interpreter the worker starts as
};

// Parses the worker's answer ("3.12.1 /usr/bin/python3.12\n").
StatusOr<EmbeddedPython> ParseEmbeddedPython(const std::string& answer);

// Runs `worker_path --python-version` and parses its answer. Unavailable
// when the worker cannot run (a missing libpython shows here, with the
// loader's message on stderr).
StatusOr<EmbeddedPython> QueryEmbeddedPython(const std::string& worker_path);

// The master's check of the app's virtualenv at start and on a reload
// (LoadConfig defaults it to $VIRTUAL_ENV, else the venv wsgid is installed
// in, and makes it absolute): when set, it must be a virtualenv of the worker's
// Python major.minor (common/virtualenv.h). InvalidArgument (exit 2)
// otherwise; Unavailable when the worker cannot say its version.
Status CheckConfiguredVirtualenv(const Config& config,
                                 const std::string& worker_path);

}  // namespace wsgid
