// The control API's route table: one row per method and path pattern with the
// handler that answers it (daemon/control_handlers.h), and the lookup every
// request goes through. A path some row has, asked with a method none has, is
// 405 naming the methods that would do; a path no row has is 404.
//
// Patterns are literal segments and "{name}" segments, which match a decimal
// number of 1 to 6 digits (a worker id) and are handed to the handler in
// order. Pure functions over constant data; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/control_handlers.h"

namespace wsgid {

struct ControlRoute {
  const char* method;   // "GET", "POST", "PUT"
  const char* pattern;  // "/v1/workers/{id}/kill"
  ControlHandler handler;
};

// The routes of /v1, in the order their methods are listed in a 405.
std::span<const ControlRoute> ControlRoutes();

// A request's row and the values of its pattern's {name} segments.
struct RouteMatch {
  const ControlRoute* route = nullptr;
  std::vector<std::string> params;
};

// The row of `routes` for METHOD PATH. Else kNotFound ("no such endpoint:
// PATH") when no row has the path, or kMethodNotAllowed ("METHOD PATH: use
// GET, PUT", the path's methods in table order) when only other methods do.
StatusOr<RouteMatch> FindRoute(std::span<const ControlRoute> routes,
                               const std::string& method,
                               const std::string& path);

// Whether `path` matches `pattern` segment for segment; if so, `*params` gets
// the path's values of the {name} segments.
bool MatchPathPattern(std::string_view pattern, std::string_view path,
                      std::vector<std::string>* params);

}  // namespace wsgid
