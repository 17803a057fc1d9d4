// wsgictl's exit codes: scripts branch on them, so each means one kind of
// outcome. They are the wsgictl column of the status code table
// (common/status_codes.h), named for what they mean here.
#pragma once

#include "common/status_codes.h"

namespace wsgid::ctl {

inline constexpr int kExitOk = StatusCodeInfo(StatusCode::kOk).ctl_exit;
// The daemon answered with an error (4xx/5xx other than 401) or an answer we
// cannot read.
inline constexpr int kExitRefused =
    StatusCodeInfo(StatusCode::kRefused).ctl_exit;
// The command line is wrong; nothing was sent.
inline constexpr int kExitUsage =
    StatusCodeInfo(StatusCode::kInvalidArgument).ctl_exit;
// No daemon answered at the endpoint.
inline constexpr int kExitUnreachable =
    StatusCodeInfo(StatusCode::kUnavailable).ctl_exit;
// The daemon answered 401: wrong or missing token.
inline constexpr int kExitUnauthorised =
    StatusCodeInfo(StatusCode::kUnauthenticated).ctl_exit;
// wait-ready gave up; 124 is what timeout(1) returns, so scripts treat both
// alike.
inline constexpr int kExitTimeout =
    StatusCodeInfo(StatusCode::kDeadlineExceeded).ctl_exit;

static_assert(kExitOk == 0 && kExitRefused == 1 && kExitUsage == 2 &&
                  kExitUnreachable == 3 && kExitUnauthorised == 4 &&
                  kExitTimeout == 124,
              "the exit codes the README documents");

}  // namespace wsgid::ctl
