// The one table from a StatusCode to what each side shows of it: the control
// API's HTTP status and error name, and the exit code of wsgid, wsgid-worker
// and wsgictl. The exit codes are documented in the README (wsgid: 0 stopped,
// 1 other start-up failure, 2 bad option, 3 app not importable; wsgid-worker:
// 3 boot failure, 4 app not importable; wsgictl: 1 refused, 2 usage,
// 3 unreachable, 4 unauthorised, 124 timed out); scripts branch on them.
#pragma once

#include <cstddef>
#include <iterator>

#include "common/status.h"

namespace wsgid {

enum class Program { kDaemon, kWorker, kCtl };

struct StatusCodeRow {
  StatusCode code;
  const char* api_error;  // the "error" field of a control API answer
  int http_status;
  int daemon_exit;  // wsgid
  int worker_exit;  // wsgid-worker (the master reads kAppLoad's)
  int ctl_exit;     // wsgictl
};

// One row per StatusCode, in the enum's order.
// clang-format off
inline constexpr StatusCodeRow kStatusCodeTable[] = {
    // code                         api_error            http wsgid worker wsgictl
    {StatusCode::kOk,               "ok",                 200,    0,     0,      0},
    {StatusCode::kInvalidArgument,  "invalid_value",      422,    2,     2,      2},
    {StatusCode::kMalformed,        "bad_request",        400,    2,     2,      2},
    {StatusCode::kUnauthenticated,  "unauthorized",       401,    1,     3,      4},
    {StatusCode::kNotFound,         "not_found",          404,    1,     3,      1},
    {StatusCode::kMethodNotAllowed, "method_not_allowed", 405,    1,     3,      1},
    {StatusCode::kConflict,         "conflict",           409,    1,     3,      1},
    {StatusCode::kUnavailable,      "unavailable",        503,    1,     3,      3},
    {StatusCode::kDeadlineExceeded, "timeout",            504,    1,     3,    124},
    {StatusCode::kAppLoad,          "app_load_failed",    500,    3,     4,      1},
    {StatusCode::kRefused,          "refused",            502,    1,     3,      1},
    {StatusCode::kInternal,         "internal",           500,    1,     3,      1},
};
// clang-format on

// The row of `code`.
constexpr const StatusCodeRow& StatusCodeInfo(StatusCode code) {
  return kStatusCodeTable[static_cast<int>(code)];
}
static_assert(std::size(kStatusCodeTable) ==
                  static_cast<size_t>(StatusCode::kInternal) + 1,
              "one row per StatusCode, in its order");

// The exit code `program` ends with after `status` (0 when ok).
int ExitCodeFor(Program program, const Status& status);

// The StatusCode of an HTTP error status, for a client reading an answer
// (kRefused for the statuses no row names).
StatusCode StatusCodeFromHttp(int http_status);

}  // namespace wsgid
