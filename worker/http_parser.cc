#include "worker/http_parser.h"

#include <cstring>

namespace wsgid {
namespace {

constexpr int kDefaultFieldSize = 8190;
constexpr size_t kMaxLeadingEmptyLines = 8;

bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsOws(unsigned char c) { return c == ' ' || c == '\t'; }
char ToLower(char c) {
  return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

ParseStatus Fail(HttpError* error, int status, std::string reason) {
  error->status = status;
  error->reason = std::move(reason);
  return ParseStatus::kError;
}

// Target characters: visible ASCII and obs-text; no controls, no spaces.
bool IsTargetChar(unsigned char c) { return c > 0x20 && c != 0x7f; }

// Field-value characters: VCHAR, obs-text, SP, HTAB.
bool IsFieldValueChar(unsigned char c) {
  return c >= 0x20 ? c != 0x7f : c == '\t';
}

// Takes the next comma-separated item of a header list (trimmed) off *list;
// false once the list is used up.
bool NextListItem(std::string_view* list, std::string_view* item) {
  if (list->empty()) return false;
  size_t comma = list->find(',');
  *item = Trim(list->substr(0, comma));
  *list = comma == std::string_view::npos ? std::string_view()
                                          : list->substr(comma + 1);
  return true;
}

// Splits the target into path and query; the fragment is dropped.
void SplitTarget(std::string_view target, RequestHead* head) {
  std::string_view rest = target;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    head->path = rest.substr(0, q);
    head->query = rest.substr(q + 1);
  } else {
    head->path = rest;
    head->query = {};
  }
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// The method: an upper-case token of 3 to 20 characters.
ParseStatus CheckMethod(std::string_view method, HttpError* error) {
  if (method.empty()) return Fail(error, 400, "invalid request line");
  for (unsigned char c : method) {
    if (!IsTokenChar(c) || IsLower(c) || c == '#')
      return Fail(error, 400, "invalid request method");
  }
  if (method.size() < 3 || method.size() > 20)
    return Fail(error, 400, "invalid request method");
  return ParseStatus::kDone;
}

// "HTTP/1.x": other well-formed majors are answered 505, the rest 400.
ParseStatus CheckVersion(std::string_view version, HttpError* error) {
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" ||
      !IsDigit(version[5]) || version[6] != '.' || !IsDigit(version[7]) ||
      version[5] == '0')
    return Fail(error, 400, "invalid HTTP version");
  if (version[5] != '1') return Fail(error, 505, "HTTP version not supported");
  return ParseStatus::kDone;
}

ParseStatus CheckTarget(std::string_view target, HttpError* error) {
  if (target.empty()) return Fail(error, 400, "invalid request line");
  for (unsigned char c : target)
    if (!IsTargetChar(c)) return Fail(error, 400, "invalid request line");
  return ParseStatus::kDone;
}

// absolute-form: the path starts at the first '/' after the authority.
void SplitAbsoluteTarget(std::string_view target, RequestHead* head) {
  size_t authority = target.find("//") + 2;
  size_t slash = target.find_first_of("/?#", authority);
  if (slash == std::string_view::npos || target[slash] != '/') {
    head->path = "/";
    head->query = {};
    if (slash != std::string_view::npos && target[slash] == '?')
      SplitTarget(target.substr(slash), head);
    if (head->path.empty()) head->path = "/";
  } else {
    SplitTarget(target.substr(slash), head);
  }
}

// Sets head->path and head->query from the request-target's form (RFC 9112
// 3.2): origin, asterisk (OPTIONS only), absolute, or authority (CONNECT only).
ParseStatus ResolveTargetForm(RequestHead* head, HttpError* error) {
  std::string_view target = head->target;
  if (target[0] == '/') {
    SplitTarget(target, head);
  } else if (target == "*") {
    if (head->method != "OPTIONS")
      return Fail(error, 400, "invalid request line: '*' needs OPTIONS");
    head->path = target;
    head->query = {};
  } else if (StartsWithIgnoreCase(target, "http://") ||
             StartsWithIgnoreCase(target, "https://")) {
    SplitAbsoluteTarget(target, head);
  } else if (head->method == "CONNECT") {
    head->path = {};  // authority-form: PEP 3333 has no path for it
    head->query = {};
  } else {
    return Fail(error, 400,
                "invalid request line: unsupported request-target form");
  }
  return ParseStatus::kDone;
}

ParseStatus ParseRequestLine(std::string_view line, RequestHead* head,
                             HttpError* error) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos)
    return Fail(error, 400, "invalid request line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return Fail(error, 400, "invalid request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (ParseStatus s = CheckMethod(method, error); s != ParseStatus::kDone)
    return s;
  if (ParseStatus s = CheckVersion(version, error); s != ParseStatus::kDone)
    return s;
  if (ParseStatus s = CheckTarget(target, error); s != ParseStatus::kDone)
    return s;
  head->method = method;
  head->target = target;
  head->version_minor = version[7] - '0';
  return ResolveTargetForm(head, error);
}

// What the framing and connection headers said, gathered over the fields.
struct HeaderFacts {
  bool has_length = false;
  bool has_te = false;
  bool chunked = false;
  bool keep_alive_token = false;
  bool close_token = false;
  bool has_host = false;
  bool has_content_type = false;
};

// A request is routed and framed by Host and Content-Type: two of either
// disagree about which applies.
ParseStatus CheckRoutingField(const HeaderField& h, HeaderFacts* facts,
                              HttpError* error) {
  if (EqualsIgnoreCase(h.name, "host")) {
    if (facts->has_host) return Fail(error, 400, "duplicate Host header");
    facts->has_host = true;
  } else if (EqualsIgnoreCase(h.name, "content-type")) {
    if (facts->has_content_type)
      return Fail(error, 400, "duplicate Content-Type header");
    facts->has_content_type = true;
  }
  return ParseStatus::kDone;
}

// Content-Length: one, decimal digits only, at most 18 of them (no overflow).
ParseStatus ParseContentLength(std::string_view value, HeaderFacts* facts,
                               RequestHead* head, HttpError* error) {
  if (facts->has_length) return Fail(error, 400, "duplicate Content-Length");
  facts->has_length = true;
  if (value.empty() || value.size() > 18)
    return Fail(error, 400, "invalid Content-Length");
  int64_t n = 0;
  for (unsigned char c : value) {
    if (!IsDigit(c)) return Fail(error, 400, "invalid Content-Length");
    n = n * 10 + (c - '0');
  }
  head->content_length = n;
  return ParseStatus::kDone;
}

// Transfer-Encoding: known codings only, chunked once and last.
ParseStatus ParseTransferEncoding(std::string_view value, HeaderFacts* facts,
                                  const RequestHead& head, HttpError* error) {
  // HTTP/1.0 has no transfer codings: a TE header there is a smuggling
  // attempt.
  if (head.version_minor == 0)
    return Fail(error, 400, "Transfer-Encoding in HTTP/1.0");
  facts->has_te = true;
  std::string_view list = value;
  for (std::string_view item; NextListItem(&list, &item);) {
    if (item.empty()) continue;
    if (EqualsIgnoreCase(item, "chunked")) {
      if (facts->chunked)
        return Fail(error, 400, "chunked transfer coding applied twice");
      facts->chunked = true;
    } else if (EqualsIgnoreCase(item, "identity")) {
      if (facts->chunked)
        return Fail(error, 400, "chunked must be the last transfer coding");
    } else if (EqualsIgnoreCase(item, "gzip") ||
               EqualsIgnoreCase(item, "x-gzip") ||
               EqualsIgnoreCase(item, "deflate") ||
               EqualsIgnoreCase(item, "compress")) {
      if (facts->chunked)
        return Fail(error, 400, "chunked must be the last transfer coding");
    } else {
      return Fail(error, 501, "unsupported transfer coding");
    }
  }
  return ParseStatus::kDone;
}

void ParseConnectionTokens(std::string_view value, HeaderFacts* facts) {
  std::string_view list = value;
  for (std::string_view item; NextListItem(&list, &item);) {
    if (EqualsIgnoreCase(item, "close")) facts->close_token = true;
    if (EqualsIgnoreCase(item, "keep-alive")) facts->keep_alive_token = true;
  }
}

// Takes one field's part in the framing and connection semantics.
ParseStatus ApplyField(const HeaderField& h, HeaderFacts* facts,
                       RequestHead* head, HttpError* error) {
  if (ParseStatus s = CheckRoutingField(h, facts, error);
      s != ParseStatus::kDone)
    return s;
  if (EqualsIgnoreCase(h.name, "content-length"))
    return ParseContentLength(h.value, facts, head, error);
  if (EqualsIgnoreCase(h.name, "transfer-encoding"))
    return ParseTransferEncoding(h.value, facts, *head, error);
  if (EqualsIgnoreCase(h.name, "connection")) {
    ParseConnectionTokens(h.value, facts);
  } else if (EqualsIgnoreCase(h.name, "expect")) {
    if (EqualsIgnoreCase(h.value, "100-continue") && head->version_minor >= 1)
      head->expect_continue = true;
  }
  return ParseStatus::kDone;
}

// Transfer-Encoding without chunked frames nothing: only "identity" (or a
// content coding with Content-Length, which then frames the body) is taken.
ParseStatus CheckUnchunkedCodings(const RequestHead& head,
                                  const HeaderFacts& facts, HttpError* error) {
  if (!facts.has_te || facts.chunked || facts.has_length)
    return ParseStatus::kDone;
  for (const HeaderField& h : head.headers)
    if (EqualsIgnoreCase(h.name, "transfer-encoding") &&
        Trim(h.value).find_first_not_of(", \t") != std::string_view::npos &&
        !EqualsIgnoreCase(Trim(h.value), "identity"))
      return Fail(error, 400, "chunked must be the last transfer coding");
  return ParseStatus::kDone;
}

// Applies the framing and connection semantics of the parsed headers.
ParseStatus ApplyHeaderSemantics(RequestHead* head, HttpError* error) {
  HeaderFacts facts;
  for (const HeaderField& h : head->headers)
    if (ParseStatus s = ApplyField(h, &facts, head, error);
        s != ParseStatus::kDone)
      return s;
  if (facts.chunked && facts.has_length)
    return Fail(error, 400, "both Transfer-Encoding and Content-Length");
  if (ParseStatus s = CheckUnchunkedCodings(*head, facts, error);
      s != ParseStatus::kDone)
    return s;
  if (facts.chunked) {
    head->body_kind = RequestHead::BodyKind::kChunked;
  } else if (facts.has_length && head->content_length > 0) {
    head->body_kind = RequestHead::BodyKind::kLength;
  } else {
    head->body_kind = RequestHead::BodyKind::kNone;
  }
  head->keep_alive = head->version_minor >= 1
                         ? !facts.close_token
                         : facts.keep_alive_token && !facts.close_token;
  return ParseStatus::kDone;
}

// The limits as byte counts for one parse.
struct HeadBounds {
  size_t field_size;    // longest header line with its CRLF
  size_t request_line;  // longest request line without its CRLF
  size_t max_head;      // longest head that fits the limits

  static HeadBounds From(const HttpLimits& limits) {
    HeadBounds b;
    b.field_size = static_cast<size_t>(
        limits.field_size > 0 ? limits.field_size : kDefaultFieldSize);
    b.request_line = limits.request_line > 0
                         ? static_cast<size_t>(limits.request_line)
                         : (1u << 20);
    b.max_head = b.request_line + 2 +
                 static_cast<size_t>(limits.fields) * (b.field_size + 2) + 2;
    return b;
  }
};

// What the header-field loop carries from one line to the next.
struct FieldCursor {
  int count = 0;              // fields seen, dropped ones included
  size_t folded_size = 0;     // the current field with its continuation lines
  bool last_dropped = false;  // the current field was dropped (its
                              // continuations too)
};

// An obs-fold continuation line: joined to the previous field's value when
// permitted.
ParseStatus ParseFoldedLine(std::string_view line, const HttpLimits& limits,
                            const HeadBounds& bounds, FieldCursor* cursor,
                            RequestHead* head, HttpError* error) {
  if (!limits.permit_obsolete_folding)
    return Fail(error, 400, "obsolete line folding in headers");
  if (cursor->count == 0)
    return Fail(error, 400, "invalid header: folding first line");
  for (unsigned char c : line)
    if (!IsFieldValueChar(c)) return Fail(error, 400, "invalid header value");
  cursor->folded_size += line.size() + 2;
  if (cursor->folded_size > bounds.field_size)
    return Fail(error, 431, "header field too large");
  if (cursor->last_dropped) return ParseStatus::kDone;
  HeaderField& last = head->headers.back();
  std::string joined(last.value);
  std::string_view more = Trim(line);
  if (!more.empty()) {
    if (!joined.empty()) joined += ' ';
    joined += more;
  }
  head->folded.push_back(std::move(joined));
  last.value = head->folded.back();
  return ParseStatus::kDone;
}

// A "name: value" line: validated, counted, and kept unless its name has a
// '_' the header map drops.
ParseStatus ParseFieldLine(std::string_view line, const HttpLimits& limits,
                           FieldCursor* cursor, RequestHead* head,
                           HttpError* error) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos)
    return Fail(error, 400, "invalid header: no colon");
  std::string_view name = line.substr(0, colon);
  while (limits.strip_header_spaces && !name.empty() && IsOws(name.back()))
    name.remove_suffix(1);  // --strip-header-spaces (Gunicorn's, unsafe)
  if (name.empty()) return Fail(error, 400, "invalid header name");
  for (unsigned char c : name)
    if (!IsTokenChar(c)) return Fail(error, 400, "invalid header name");
  cursor->folded_size = line.size() + 2;
  std::string_view value = Trim(line.substr(colon + 1));
  for (unsigned char c : value)
    if (!IsFieldValueChar(c)) return Fail(error, 400, "invalid header value");
  if (++cursor->count > limits.fields)
    return Fail(error, 431, "too many header fields");
  cursor->last_dropped = false;
  if (name.find('_') != std::string_view::npos) {
    if (limits.header_map == HeaderMap::kRefuse)
      return Fail(error, 400, "invalid header name: '_' refused");
    if (limits.header_map == HeaderMap::kDrop &&
        !IsForwarderHeader(name, limits.forwarder_headers)) {
      cursor->last_dropped = true;
      return ParseStatus::kDone;
    }
  }
  head->headers.push_back({name, value});
  return ParseStatus::kDone;
}

// An incomplete last line: only its length can be judged yet (its CR may have
// arrived). With nothing before that CR it may be the empty line that ends the
// head, which no field limit applies to: judging it as a field would refuse,
// under a field limit below 3, a head that is accepted once its LF arrives.
ParseStatus JudgeIncompleteLine(std::string_view raw, size_t pos,
                                const HeadBounds& bounds, HttpError* error) {
  size_t partial = raw.size() - pos;
  if (partial > 0 && raw.back() == '\r') --partial;
  if (partial > 0 && partial + 2 > bounds.field_size)
    return Fail(error, 431, "header field too large");
  if (raw.size() > bounds.max_head)
    return Fail(error, 431, "request headers too large");
  return ParseStatus::kNeedMore;
}

// Parses the header lines of `raw` from `pos` up to the empty line that ends
// the head (kDone) or the end of what arrived (kNeedMore).
ParseStatus ParseHeaderLines(std::string_view raw, size_t pos,
                             const HttpLimits& limits, const HeadBounds& bounds,
                             RequestHead* head, HttpError* error) {
  FieldCursor cursor;
  while (true) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string_view::npos)
      return JudgeIncompleteLine(raw, pos, bounds, error);
    std::string_view line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) return ParseStatus::kDone;
    // The limit counts each line with its CRLF, as Gunicorn's does.
    if (line.size() + 2 > bounds.field_size)
      return Fail(error, 431, "header field too large");
    ParseStatus s =
        IsOws(line[0])
            ? ParseFoldedLine(line, limits, bounds, &cursor, head, error)
            : ParseFieldLine(line, limits, &cursor, head, error);
    if (s != ParseStatus::kDone) return s;
  }
}

// Length of the empty lines before the request line, which are ignored (RFC
// 9112 section 2.2), a few at most.
size_t LeadingEmptyLines(std::string_view buffer) {
  size_t start = 0;
  for (size_t n = 0; n < kMaxLeadingEmptyLines; ++n) {
    if (buffer.substr(start, 2) != "\r\n") break;
    start += 2;
  }
  return start;
}

// Lines end with CRLF only: a bare LF in the head is refused at once rather
// than waited past. The body after CRLF CRLF may hold anything.
bool HasBareLf(std::string_view rest) {
  for (size_t lf = rest.find('\n'); lf != std::string_view::npos;
       lf = rest.find('\n', lf + 1)) {
    if (lf == 0 || rest[lf - 1] != '\r') return true;
    if (lf >= 3 && rest.substr(lf - 3, 4) == "\r\n\r\n") return false;
  }
  return false;
}

// The request line has not ended yet: refused if already too long. A line
// exactly at the limit may still be waiting for the LF after its CR.
ParseStatus AwaitRequestLine(std::string_view rest, const HeadBounds& bounds,
                             HttpError* error) {
  bool cr_pending = !rest.empty() && rest.back() == '\r';
  if (rest.size() > bounds.request_line + (cr_pending ? 1 : 0))
    return Fail(error, 414, "request line too long");
  return ParseStatus::kNeedMore;
}

// Copies the head's bytes seen so far into *head and clears what the last
// parse left there (a connection reuses one RequestHead).
void ResetHead(std::string_view available, RequestHead* head) {
  head->raw.assign(available.data(), available.size());
  head->headers.clear();
  head->folded.clear();
  head->expect_continue = false;
  head->content_length = 0;
}

}  // namespace

HttpLimits HttpLimits::FromConfig(const Config& config) {
  HttpLimits limits;
  limits.request_line = config.limit_request_line;
  limits.fields = config.limit_request_fields;
  limits.field_size = config.limit_request_field_size;
  limits.header_map = config.header_map;
  limits.permit_obsolete_folding = config.permit_obsolete_folding;
  limits.strip_header_spaces = config.strip_header_spaces;
  limits.forwarder_headers = config.forwarder_headers;
  return limits;
}

bool IsForwarderHeader(std::string_view name,
                       const std::vector<std::string>& forwarder_headers) {
  if (name.find('_') == std::string_view::npos) return false;
  for (const std::string& h : forwarder_headers)
    if (EqualsIgnoreCase(name, h)) return true;
  return false;
}

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  return true;
}

std::string PercentDecode(std::string_view path) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 &&
        hex(path[i + 2]) >= 0) {
      out += static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

const HeaderField* RequestHead::Find(std::string_view name) const {
  for (const HeaderField& h : headers)
    if (EqualsIgnoreCase(h.name, name)) return &h;
  return nullptr;
}

ParseStatus ParseRequestHead(std::string_view buffer, const HttpLimits& limits,
                             RequestHead* head, size_t* consumed,
                             HttpError* error) {
  const HeadBounds bounds = HeadBounds::From(limits);
  const size_t start = LeadingEmptyLines(buffer);
  std::string_view rest = buffer.substr(start);
  if (HasBareLf(rest)) return Fail(error, 400, "bare LF in request head");
  size_t line_end = rest.find("\r\n");
  if (line_end == std::string_view::npos)
    return AwaitRequestLine(rest, bounds, error);
  if (line_end > bounds.request_line)
    return Fail(error, 414, "request line too long");

  // Find the end of the head before copying it; the header loop bounds its
  // size meanwhile. The lines seen so far are validated, so bad input is
  // refused without waiting for more.
  size_t head_end = rest.find("\r\n\r\n", line_end);
  ResetHead(
      head_end == std::string_view::npos ? rest : rest.substr(0, head_end + 4),
      head);
  std::string_view raw = head->raw;
  if (ParseStatus s = ParseRequestLine(raw.substr(0, line_end), head, error);
      s != ParseStatus::kDone)
    return s;
  if (ParseStatus s =
          ParseHeaderLines(raw, line_end + 2, limits, bounds, head, error);
      s != ParseStatus::kDone)
    return s;
  if (ParseStatus s = ApplyHeaderSemantics(head, error);
      s != ParseStatus::kDone)
    return s;
  *consumed = start + head->raw.size();
  return ParseStatus::kDone;
}

}  // namespace wsgid
