// wsgictl's exit codes: scripts branch on them, so each means one kind of
// outcome.
#pragma once

namespace wsgid::ctl {

inline constexpr int kExitOk = 0;
// The daemon answered with an error (4xx/5xx other than 401) or an answer we
// cannot read.
inline constexpr int kExitRefused = 1;
// The command line is wrong; nothing was sent.
inline constexpr int kExitUsage = 2;
// No daemon answered at the endpoint.
inline constexpr int kExitUnreachable = 3;
// The daemon answered 401: wrong or missing token.
inline constexpr int kExitUnauthorised = 4;
// wait-ready gave up; 124 is what timeout(1) returns, so scripts treat both
// alike.
inline constexpr int kExitTimeout = 124;

}  // namespace wsgid::ctl
