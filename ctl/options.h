// The global part of wsgictl's command line: where the daemon is, the output
// format, help. Global options may appear before or after the command word, as
// in kubectl.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ctl/endpoint.h"

namespace wsgid::ctl {

enum class OutputFormat { kTable, kJson };

struct CommandLine {
  EndpointRequest endpoint;
  OutputFormat format = OutputFormat::kTable;
  bool help = false;
  // The command word and its own arguments, in order, global options taken out.
  std::vector<std::string> words;
};

// Splits argv (without argv[0]) into global options and command words.
// `env_socket` is $WSGICTL_SOCKET when set. An error is a usage error.
StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args,
                                       std::optional<std::string> env_socket);

// The --help text.
std::string UsageText();

}  // namespace wsgid::ctl
