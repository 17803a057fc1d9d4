// Session: what every command works with (the client and the output format),
// and the one place where an API answer becomes output on stderr and an exit
// code.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ctl/client.h"
#include "ctl/options.h"

namespace wsgid::ctl {

// An API call as a command sees it: the body of a 2xx answer, or why not.
struct CallResult {
  int exit_code = 0;
  // For stderr when exit_code != 0: what went wrong, for a person.
  std::string error;
  // 2xx: the answer. Refused: the daemon's {"error", "detail"} object, when it
  // sent one.
  nlohmann::json body;
  bool ok() const { return exit_code == 0; }
};

class Session {
 public:
  Session(ControlClient client, OutputFormat format)
      : client_(std::move(client)), format_(format) {}

  ControlClient& client() { return client_; }
  OutputFormat format() const { return format_; }
  bool json() const { return format_ == OutputFormat::kJson; }

  // Sends the request and classifies the outcome: unreachable (3), unauthorised
  // (4), refused (1), or ok with the parsed body.
  CallResult Call(const std::string& method, const std::string& path,
                  const std::optional<nlohmann::json>& body = std::nullopt);

  // Prints a failed call (the message to stderr; with -o json also the daemon's
  // error object to stdout, for scripts) and returns its exit code.
  int Fail(const CallResult& result) const;

  // Prints `value` as indented JSON on stdout.
  static void PrintJson(const nlohmann::json& value);

 private:
  ControlClient client_;
  OutputFormat format_;
};

}  // namespace wsgid::ctl
