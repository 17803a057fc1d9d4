// JSON in and out of the control API: the answer a handler gives, the error
// object {"error": name, "detail": text} with its HTTP status, and the checked
// parse of a request body. Pure functions; thread-safe.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace wsgid {

// One answer of the API: HTTP status and JSON text (no trailing newline).
struct ApiAnswer {
  int status = 200;
  std::string json;
};

// `body` as the answer with `status` (invalid UTF-8 in strings is replaced,
// never thrown: paths in the scoreboard come from clients).
ApiAnswer JsonAnswer(int status, const nlohmann::json& body);

// The error answer of a failed Status: its code gives the HTTP status and the
// error name (common/status_codes.h), its message the detail.
// REQUIRES: !status.ok().
ApiAnswer ErrorAnswer(const Status& status);

// An error answer in the words of whoever refused (the supervisor's
// CommandResult carries its own status and name).
ApiAnswer ErrorAnswer(int http_status, const std::string& error,
                      const std::string& detail);

// Parses a request body that must be a JSON object whose fields all appear in
// `allowed` (an empty body is the empty object). Every failure is kMalformed
// (400): a body of the wrong shape, as opposed to a value out of range.
StatusOr<nlohmann::json> ParseObject(
    const std::string& body, std::initializer_list<const char*> allowed);

}  // namespace wsgid
