// The whole of wsgictl behind main(): parse the command line, pick the command,
// run it.
#pragma once

#include <string>
#include <vector>

namespace wsgid::ctl {

// Runs wsgictl with `args` (argv without argv[0]); returns the exit code.
int Main(const std::vector<std::string>& args);

}  // namespace wsgid::ctl
