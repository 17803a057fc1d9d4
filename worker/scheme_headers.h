// ForwardedScheme: what the --secure-scheme-headers of a request from a
// trusted forwarder (--forwarded-allow-ips) say its scheme is, as Gunicorn
// reads them: every occurrence of a configured header (name compared without
// case) says https when its value equals the configured one exactly, http
// otherwise; when two of them disagree the request is contradictory and
// Gunicorn answers 400 "Contradictory scheme headers".
//
// Pure, thread-safe; `head` is untrusted input.
#pragma once

#include <string>
#include <vector>

#include "worker/http_parser.h"

namespace wsgid {

enum class ForwardedScheme { kNone, kHttp, kHttps, kContradictory };

// `secure_scheme_headers`: "HEADER=VALUE" entries (an entry without '=' is
// skipped). kNone when no configured header is present.
ForwardedScheme SchemeFromHeaders(
    const RequestHead& head,
    const std::vector<std::string>& secure_scheme_headers);

// Gunicorn's message for kContradictory.
inline constexpr char kContradictorySchemeHeaders[] =
    "Contradictory scheme headers";

}  // namespace wsgid
