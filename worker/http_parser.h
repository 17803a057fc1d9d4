// HTTP/1.1 request-head parsing (RFC 9112), strict where request smuggling
// lives and as lenient as Gunicorn where its users rely on it (no Host required
// in HTTP/1.1, "Transfer-Encoding: gzip, chunked", identity with
// Content-Length).
//
// Pure functions over bytes: no I/O, no Python. Thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"

namespace wsgid {

// Limits and leniency switches, from the Config.
struct HttpLimits {
  int request_line = 4094;  // longest request line without CRLF; 0: unlimited
  int fields = 100;         // most header fields
  int field_size =
      8190;  // longest header line with its CRLF (as Gunicorn); 0: default
  HeaderMap header_map = HeaderMap::kDrop;
  bool permit_obsolete_folding = false;
  bool strip_header_spaces = false;  // "Name : value" taken as "Name: value"
  // --forwarder-headers: '_' names kept under "drop" for the handler, which
  // maps them into the environ when a trusted proxy sent them.
  std::vector<std::string> forwarder_headers;

  static HttpLimits FromConfig(const Config& config);
};

struct HeaderField {
  std::string_view name;   // as sent (case preserved)
  std::string_view value;  // surrounding whitespace removed
};

// A parsed request head. All views point into `raw`, which owns the bytes.
struct RequestHead {
  enum class BodyKind { kNone, kLength, kChunked };

  std::string raw;  // head bytes as received (obs-fold joins rewrite it)
  std::string_view method;
  std::string_view target;  // request-target as sent
  std::string_view path;    // path part of the target (still percent-encoded)
  std::string_view query;   // after '?', without the fragment
  int version_minor = 1;    // HTTP/1.x
  std::vector<HeaderField>
      headers;  // in order; '_' names already dropped if configured
  BodyKind body_kind = BodyKind::kNone;
  int64_t content_length = 0;  // for kLength
  bool keep_alive = true;  // what the client asked for (version + Connection)
  bool expect_continue = false;  // Expect: 100-continue on HTTP/1.1
  std::deque<std::string>
      folded;  // values joined from obs-fold lines (views point here)

  // The first header named `name` (case-insensitive), or nullptr.
  const HeaderField* Find(std::string_view name) const;
};

// Why a request was refused: the status to answer and a reason for the log and
// the body.
struct HttpError {
  int status = 400;
  std::string reason;
};

enum class ParseStatus { kNeedMore, kDone, kError };

// Parses one request head from the start of `buffer`.
// kDone: *head is filled and *consumed is the head's length (CRLF CRLF
// included); body bytes, if any, follow in the buffer. kNeedMore: the head is
// incomplete but valid so far (and within the limits). kError: *error says why;
// the connection must be closed after answering it.
ParseStatus ParseRequestHead(std::string_view buffer, const HttpLimits& limits,
                             RequestHead* head, size_t* consumed,
                             HttpError* error);

// True for the RFC 9110 token characters (tchar).
bool IsTokenChar(unsigned char c);

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Whether `name` is one of --forwarder-headers (SCRIPT_NAME, ...): only names
// with '_' can be, so other headers cost one search for '_'.
bool IsForwarderHeader(std::string_view name,
                       const std::vector<std::string>& forwarder_headers);

// Percent-decodes a path; each byte becomes one latin-1 character's byte, as
// PEP 3333 wants for PATH_INFO (the caller decodes the bytes as latin-1).
// Invalid escapes stay as they are.
std::string PercentDecode(std::string_view path);

}  // namespace wsgid
