// libFuzzer target: ParseRequestHead over arbitrary bytes, after a PROXY
// protocol header when the input starts with one (ParseProxyPrefix).
//
// The whole input is the receive buffer, so gunicorn's request corpus serves as
// seeds unchanged. Each input is parsed under the default limits and under a
// second set picked from a hash of the input (tight or unlimited line, field
// and count limits; each header-map mode; obs-fold on or off). Beyond the
// sanitizers, it checks what the server relies on:
// - kDone: 0 < consumed <= size, the head ends with CRLF CRLF at consumed,
//   every view points into the head's own storage, the header count is within
//   the limit, and parsing exactly those bytes gives the same head again;
// - reading in pieces changes nothing: every prefix the server could hold
//   before the head is complete is kNeedMore (a valid head refused because of
//   how TCP split it would be a bug), and a prefix already in error stays so;
// - a RequestHead reused from an earlier parse (as a connection reuses it)
//   gives the same result as a fresh one.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "worker/http_parser.h"
#include "worker/proxy_protocol.h"

namespace {

using wsgid::HeaderMap;
using wsgid::HttpError;
using wsgid::HttpLimits;
using wsgid::ParseRequestHead;
using wsgid::ParseStatus;
using wsgid::RequestHead;

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "http_parser_fuzz: invariant violated: %s\n", what);
  std::abort();
}

#define CHECK(cond) \
  if (!(cond)) Violation(#cond)

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

HttpLimits LimitsFrom(uint64_t h) {
  static constexpr int kLines[] = {4094, 0, 16, 64, 1};
  static constexpr int kFields[] = {100, 1, 2, 5, 32767};
  static constexpr int kFieldSizes[] = {8190, 0, 20, 64, 1, 3};
  static constexpr HeaderMap kMaps[] = {HeaderMap::kDrop, HeaderMap::kRefuse,
                                        HeaderMap::kDangerous};
  HttpLimits limits;
  limits.request_line = kLines[h % 5];
  limits.fields = kFields[(h >> 8) % 5];
  limits.field_size = kFieldSizes[(h >> 16) % 6];
  limits.header_map = kMaps[(h >> 24) % 3];
  limits.permit_obsolete_folding = (h >> 32) & 1;
  return limits;
}

bool Inside(std::string_view view, std::string_view storage) {
  return view.empty() ||
         (view.data() >= storage.data() &&
          view.data() + view.size() <= storage.data() + storage.size());
}

bool InsideHead(std::string_view view, const RequestHead& head) {
  if (Inside(view, head.raw)) return true;
  for (const std::string& f : head.folded)
    if (Inside(view, f)) return true;
  return false;
}

// What a parse produced, comparable across parses.
bool SameHead(const RequestHead& a, const RequestHead& b) {
  if (a.method != b.method || a.target != b.target || a.path != b.path ||
      a.query != b.query || a.version_minor != b.version_minor ||
      a.body_kind != b.body_kind || a.content_length != b.content_length ||
      a.keep_alive != b.keep_alive || a.expect_continue != b.expect_continue ||
      a.headers.size() != b.headers.size())
    return false;
  for (size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].name != b.headers[i].name ||
        a.headers[i].value != b.headers[i].value)
      return false;
  return true;
}

void CheckDone(std::string_view buffer, const HttpLimits& limits,
               const RequestHead& head, size_t consumed) {
  CHECK(consumed > 0 && consumed <= buffer.size());
  CHECK(consumed >= 4 && buffer.substr(consumed - 4, 4) == "\r\n\r\n");
  CHECK(head.raw.size() <= consumed);
  if (head.folded.empty())  // obs-fold joins may rewrite raw
    CHECK(buffer.substr(consumed - head.raw.size(), head.raw.size()) ==
          head.raw);
  CHECK(!head.method.empty() && !head.target.empty());
  CHECK(Inside(head.method, head.raw) && Inside(head.target, head.raw));
  // The path may also be the literal "/" (absolute-form without a path).
  CHECK(InsideHead(head.path, head) || head.path == "/");
  CHECK(InsideHead(head.query, head));
  CHECK(head.version_minor >= 0 && head.version_minor <= 9);
  CHECK(static_cast<int64_t>(head.headers.size()) <= limits.fields);
  CHECK(head.content_length >= 0);
  for (const auto& h : head.headers) {
    CHECK(!h.name.empty());
    CHECK(Inside(h.name, head.raw));
    CHECK(InsideHead(h.value, head));
    if (limits.header_map != HeaderMap::kDangerous)
      CHECK(h.name.find('_') == std::string_view::npos);
  }
}

void ParseWith(std::string_view buffer, const HttpLimits& limits,
               uint64_t hash) {
  RequestHead head;
  size_t consumed = 0;
  HttpError error;
  ParseStatus status =
      ParseRequestHead(buffer, limits, &head, &consumed, &error);
  if (status == ParseStatus::kError) {
    CHECK(error.status >= 400 && error.status <= 599);
    CHECK(!error.reason.empty());
  }
  if (status != ParseStatus::kDone) {
    // Everything the server held before this buffer was at most as far along.
    if (!buffer.empty()) {
      RequestHead prefix_head;
      size_t n = hash % buffer.size();
      size_t c = 0;
      HttpError e;
      ParseStatus p =
          ParseRequestHead(buffer.substr(0, n), limits, &prefix_head, &c, &e);
      CHECK(p != ParseStatus::kDone);
      if (status == ParseStatus::kNeedMore) CHECK(p == ParseStatus::kNeedMore);
    }
    return;
  }
  CheckDone(buffer, limits, head, consumed);

  // The same bytes alone (no pipelined bytes after them): the same head.
  RequestHead alone;
  size_t alone_consumed = 0;
  HttpError e;
  CHECK(ParseRequestHead(buffer.substr(0, consumed), limits, &alone,
                         &alone_consumed, &e) == ParseStatus::kDone);
  CHECK(alone_consumed == consumed && SameHead(alone, head));

  // Prefixes the server may have seen first (reusing one RequestHead, as a
  // connection does): all kNeedMore; then the whole buffer, same head.
  RequestHead reused;
  const size_t cuts[] = {consumed - 1, consumed - 2, consumed / 2,
                         hash % consumed, (hash >> 20) % consumed};
  for (size_t cut : cuts) {
    size_t c = 0;
    HttpError pe;
    ParseStatus p =
        ParseRequestHead(buffer.substr(0, cut), limits, &reused, &c, &pe);
    if (p != ParseStatus::kNeedMore) {
      std::fprintf(stderr,
                   "prefix of %zu bytes (of a %zu-byte head) gave %s: %d %s\n",
                   cut, consumed, p == ParseStatus::kDone ? "kDone" : "kError",
                   pe.status, pe.reason.c_str());
      Violation("a prefix of a valid head is not kNeedMore");
    }
  }
  size_t again = 0;
  CHECK(ParseRequestHead(buffer, limits, &reused, &again, &e) ==
        ParseStatus::kDone);
  CHECK(again == consumed && SameHead(reused, head));

  // What the WSGI layer does with the path next.
  std::string decoded = wsgid::PercentDecode(head.path);
  CHECK(decoded.size() <= head.path.size());
}

}  // namespace

// issue 17: an input that may start with a PROXY protocol header (v1 or v2,
// as the gunicorn corpus's pp_* seeds do) goes through ParseProxyHeader the
// way ConnectionPreface feeds it: kDone consumes 0 < n <= size bytes and every
// shorter prefix was kNeedMore (a header split by TCP is never refused), an
// error stays an error when more bytes come; the request after the header is
// then parsed like any other. Returns the bytes after the header.
std::string_view ParseProxyPrefix(std::string_view buffer) {
  if (!wsgid::MayBeProxyHeader(buffer.substr(0, 12))) return buffer;
  wsgid::ProxyHeader header;
  size_t consumed = 0;
  std::string error;
  wsgid::ProxyParse result =
      wsgid::ParseProxyHeader(buffer, &header, &consumed, &error);
  if (result == wsgid::ProxyParse::kNeedMore) return {};
  if (result == wsgid::ProxyParse::kError) {
    CHECK(!error.empty());
    return {};
  }
  CHECK(consumed > 0 && consumed <= buffer.size());
  CHECK(consumed <= wsgid::kMaxProxyHeaderBytes);
  CHECK(!header.has_address || !header.source_addr.empty());
  for (size_t n = 0; n < consumed; n += 1 + n / 8) {
    wsgid::ProxyHeader partial;
    size_t partial_consumed = 0;
    CHECK(wsgid::ParseProxyHeader(buffer.substr(0, n), &partial,
                                  &partial_consumed,
                                  &error) == wsgid::ProxyParse::kNeedMore);
  }
  return buffer.substr(consumed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view buffer(reinterpret_cast<const char*>(data), size);
  buffer = ParseProxyPrefix(buffer);
  uint64_t hash = Fnv1a(buffer);
  ParseWith(buffer, HttpLimits(), hash);
  ParseWith(buffer, LimitsFrom(hash), hash >> 7);
  return 0;
}
