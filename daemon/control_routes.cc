#include "daemon/control_routes.h"

#include <iterator>

namespace wsgid {
namespace {

constexpr ControlRoute kRoutes[] = {
    {"GET", "/v1/status", GetStatus},
    {"GET", "/v1/workers", GetWorkers},
    {"POST", "/v1/scale", PostScale},
    {"POST", "/v1/threads", PostThreads},
    {"POST", "/v1/reload", PostReload},
    {"GET", "/v1/config", GetConfig},
    {"GET", "/v1/autoscale", GetAutoscale},
    {"PUT", "/v1/autoscale", PutAutoscale},
    {"POST", "/v1/stop", PostStop},
    {"POST", "/v1/workers/{id}/restart", PostRestartWorker},
    {"POST", "/v1/workers/{id}/kill", PostKillWorker},
};

bool IsParameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// A worker id as the API accepts it: 1 to 6 decimal digits.
bool IsId(std::string_view segment) {
  if (segment.empty() || segment.size() > 6) return false;
  for (char c : segment)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::span<const ControlRoute> ControlRoutes() { return kRoutes; }

bool MatchPathPattern(std::string_view pattern, std::string_view path,
                      std::vector<std::string>* params) {
  std::vector<std::string> values;
  for (;;) {
    size_t pattern_end = pattern.find('/'), path_end = path.find('/');
    std::string_view expected = pattern.substr(0, pattern_end);
    std::string_view segment = path.substr(0, path_end);
    if (IsParameter(expected)) {
      if (!IsId(segment)) return false;
      values.emplace_back(segment);
    } else if (expected != segment) {
      return false;
    }
    bool pattern_done = pattern_end == std::string_view::npos;
    bool path_done = path_end == std::string_view::npos;
    if (pattern_done || path_done) {
      if (pattern_done != path_done) return false;
      break;
    }
    pattern.remove_prefix(pattern_end + 1);
    path.remove_prefix(path_end + 1);
  }
  *params = std::move(values);
  return true;
}

StatusOr<RouteMatch> FindRoute(std::span<const ControlRoute> routes,
                               const std::string& method,
                               const std::string& path) {
  std::string allowed;
  for (const ControlRoute& route : routes) {
    std::vector<std::string> params;
    if (!MatchPathPattern(route.pattern, path, &params)) continue;
    if (method == route.method) return RouteMatch{&route, std::move(params)};
    allowed += (allowed.empty() ? "" : ", ") + std::string(route.method);
  }
  if (allowed.empty()) return Status::NotFound("no such endpoint: " + path);
  return Status::Error(StatusCode::kMethodNotAllowed,
                       method + " " + path + ": use " + allowed);
}

}  // namespace wsgid
