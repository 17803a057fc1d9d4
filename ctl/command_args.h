// CommandArgs: the words after a command's name, taken apart by the command
// itself (its own options, then its positional arguments), with usage errors
// that name the command and the offending word.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace wsgid::ctl {

class CommandArgs {
 public:
  CommandArgs(std::string command, std::vector<std::string> words)
      : command_(std::move(command)), words_(std::move(words)) {}

  const std::string& command() const { return command_; }

  // Removes "--name VALUE" or "--name=VALUE"; nullopt when absent. The last one
  // wins.
  StatusOr<std::optional<std::string>> TakeOption(const std::string& name);
  // Removes a valueless "--name"; true when it was there.
  StatusOr<bool> TakeFlag(const std::string& name);
  // What remains, which must be between `min` and `max` positional words; a
  // leftover
  // "--something" is an unknown option. `what` names the expected words in
  // messages.
  StatusOr<std::vector<std::string>> Positionals(size_t min, size_t max,
                                                 const std::string& what);

  // "COMMAND: message", the form of every usage error.
  Status Error(const std::string& message) const;

 private:
  std::string command_;
  std::vector<std::string> words_;
};

// Parses a whole decimal integer, optionally signed; `what` names it in the
// error.
StatusOr<long long> ParseInteger(const std::string& text,
                                 const std::string& what);
// Parses a positive number of seconds such as "1", "0.5".
StatusOr<double> ParseSeconds(const std::string& text, const std::string& what);

}  // namespace wsgid::ctl
