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

  if (method.empty()) return Fail(error, 400, "invalid request line");
  for (unsigned char c : method) {
    if (!IsTokenChar(c) || IsLower(c) || c == '#')
      return Fail(error, 400, "invalid request method");
  }
  if (method.size() < 3 || method.size() > 20)
    return Fail(error, 400, "invalid request method");

  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" ||
      !IsDigit(version[5]) || version[6] != '.' || !IsDigit(version[7]) ||
      version[5] == '0')
    return Fail(error, 400, "invalid HTTP version");
  if (version[5] != '1') return Fail(error, 505, "HTTP version not supported");

  if (target.empty()) return Fail(error, 400, "invalid request line");
  for (unsigned char c : target)
    if (!IsTargetChar(c)) return Fail(error, 400, "invalid request line");

  head->method = method;
  head->target = target;
  head->version_minor = version[7] - '0';
  if (target[0] == '/') {
    SplitTarget(target, head);
  } else if (target == "*") {
    if (method != "OPTIONS")
      return Fail(error, 400, "invalid request line: '*' needs OPTIONS");
    head->path = target;
    head->query = {};
  } else if (StartsWithIgnoreCase(target, "http://") ||
             StartsWithIgnoreCase(target, "https://")) {
    // absolute-form: the path starts at the first '/' after the authority.
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
  } else if (method == "CONNECT") {
    head->path = {};  // authority-form: PEP 3333 has no path for it
    head->query = {};
  } else {
    return Fail(error, 400,
                "invalid request line: unsupported request-target form");
  }
  return ParseStatus::kDone;
}

// Applies the framing and connection semantics of the parsed headers.
ParseStatus ApplyHeaderSemantics(RequestHead* head, HttpError* error) {
  bool has_length = false;
  bool has_te = false;
  bool chunked = false;
  bool keep_alive_token = false;
  bool close_token = false;
  bool has_host = false;
  bool has_content_type = false;
  for (const HeaderField& h : head->headers) {
    // A request is routed and framed by these: two of them disagree about which
    // applies.
    if (EqualsIgnoreCase(h.name, "host")) {
      if (has_host) return Fail(error, 400, "duplicate Host header");
      has_host = true;
    } else if (EqualsIgnoreCase(h.name, "content-type")) {
      if (has_content_type)
        return Fail(error, 400, "duplicate Content-Type header");
      has_content_type = true;
    }
    if (EqualsIgnoreCase(h.name, "content-length")) {
      if (has_length) return Fail(error, 400, "duplicate Content-Length");
      has_length = true;
      if (h.value.empty() || h.value.size() > 18)
        return Fail(error, 400, "invalid Content-Length");
      int64_t n = 0;
      for (unsigned char c : h.value) {
        if (!IsDigit(c)) return Fail(error, 400, "invalid Content-Length");
        n = n * 10 + (c - '0');
      }
      head->content_length = n;
    } else if (EqualsIgnoreCase(h.name, "transfer-encoding")) {
      // HTTP/1.0 has no transfer codings: a TE header there is a smuggling
      // attempt.
      if (head->version_minor == 0)
        return Fail(error, 400, "Transfer-Encoding in HTTP/1.0");
      has_te = true;
      std::string_view list = h.value;
      for (std::string_view item; NextListItem(&list, &item);) {
        if (item.empty()) continue;
        if (EqualsIgnoreCase(item, "chunked")) {
          if (chunked)
            return Fail(error, 400, "chunked transfer coding applied twice");
          chunked = true;
        } else if (EqualsIgnoreCase(item, "identity")) {
          if (chunked)
            return Fail(error, 400, "chunked must be the last transfer coding");
        } else if (EqualsIgnoreCase(item, "gzip") ||
                   EqualsIgnoreCase(item, "x-gzip") ||
                   EqualsIgnoreCase(item, "deflate") ||
                   EqualsIgnoreCase(item, "compress")) {
          if (chunked)
            return Fail(error, 400, "chunked must be the last transfer coding");
        } else {
          return Fail(error, 501, "unsupported transfer coding");
        }
      }
    } else if (EqualsIgnoreCase(h.name, "connection")) {
      std::string_view list = h.value;
      for (std::string_view item; NextListItem(&list, &item);) {
        if (EqualsIgnoreCase(item, "close")) close_token = true;
        if (EqualsIgnoreCase(item, "keep-alive")) keep_alive_token = true;
      }
    } else if (EqualsIgnoreCase(h.name, "expect")) {
      if (EqualsIgnoreCase(h.value, "100-continue") && head->version_minor >= 1)
        head->expect_continue = true;
    }
  }
  if (chunked && has_length)
    return Fail(error, 400, "both Transfer-Encoding and Content-Length");
  if (has_te && !chunked && has_length) {
    // "identity" (or a content coding) with Content-Length: the length frames
    // the body.
  } else if (has_te && !chunked) {
    bool identity_only = true;
    for (const HeaderField& h : head->headers)
      if (EqualsIgnoreCase(h.name, "transfer-encoding") &&
          Trim(h.value).find_first_not_of(", \t") != std::string_view::npos &&
          !EqualsIgnoreCase(Trim(h.value), "identity"))
        identity_only = false;
    if (!identity_only)
      return Fail(error, 400, "chunked must be the last transfer coding");
  }
  if (chunked) {
    head->body_kind = RequestHead::BodyKind::kChunked;
  } else if (has_length && head->content_length > 0) {
    head->body_kind = RequestHead::BodyKind::kLength;
  } else {
    head->body_kind = RequestHead::BodyKind::kNone;
  }
  head->keep_alive = head->version_minor >= 1
                         ? !close_token
                         : keep_alive_token && !close_token;
  return ParseStatus::kDone;
}

}  // namespace

HttpLimits HttpLimits::FromConfig(const Config& config) {
  HttpLimits limits;
  limits.request_line = config.limit_request_line;
  limits.fields = config.limit_request_fields;
  limits.field_size = config.limit_request_field_size;
  limits.header_map = config.header_map;
  limits.permit_obsolete_folding = config.permit_obsolete_folding;
  return limits;
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
  const size_t field_size = static_cast<size_t>(
      limits.field_size > 0 ? limits.field_size : kDefaultFieldSize);
  const size_t line_limit = limits.request_line > 0
                                ? static_cast<size_t>(limits.request_line)
                                : (1u << 20);

  // Empty lines before the request line are ignored (RFC 9112 section 2.2).
  size_t start = 0;
  for (size_t n = 0; n < kMaxLeadingEmptyLines; ++n) {
    if (buffer.substr(start, 2) == "\r\n") {
      start += 2;
    } else {
      break;
    }
  }
  std::string_view rest = buffer.substr(start);
  // Lines end with CRLF only; a bare LF is refused at once rather than waited
  // past.
  for (size_t lf = rest.find('\n'); lf != std::string_view::npos;
       lf = rest.find('\n', lf + 1)) {
    if (lf == 0 || rest[lf - 1] != '\r')
      return Fail(error, 400, "bare LF in request head");
    if (lf >= 3 && rest.substr(lf - 3, 4) == "\r\n\r\n")
      break;  // the body may hold anything
  }
  size_t line_end = rest.find("\r\n");
  if (line_end == std::string_view::npos) {
    // A line exactly at the limit may still be waiting for the LF after its CR.
    bool cr_pending = !rest.empty() && rest.back() == '\r';
    if (rest.size() > line_limit + (cr_pending ? 1 : 0))
      return Fail(error, 414, "request line too long");
    return ParseStatus::kNeedMore;
  }
  if (line_end > line_limit) return Fail(error, 414, "request line too long");

  // Find the end of the head before copying it, and bound its size meanwhile.
  size_t head_end = rest.find("\r\n\r\n", line_end);
  const size_t max_head =
      line_limit + 2 + static_cast<size_t>(limits.fields) * (field_size + 2) +
      2;
  std::string_view available =
      head_end == std::string_view::npos ? rest : rest.substr(0, head_end + 4);

  // Validate the lines seen so far, so bad input is refused without waiting for
  // more.
  head->raw.assign(available.data(), available.size());
  head->headers.clear();
  head->folded.clear();
  head->expect_continue = false;
  head->content_length = 0;
  std::string_view raw = head->raw;
  if (ParseStatus s = ParseRequestLine(raw.substr(0, line_end), head, error);
      s != ParseStatus::kDone)
    return s;

  size_t pos = line_end + 2;
  int field_count = 0;
  size_t folded_size = 0;  // the current field with its continuation lines
  bool last_dropped =
      false;  // the current field was dropped (its continuations too)
  while (true) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      // An incomplete line: only its length can be judged yet (its CR may have
      // arrived). With nothing before that CR it may be the empty line that
      // ends the head, which no field limit applies to: judging it as a field
      // would refuse, under a field limit below 3, a head that is accepted
      // once its LF arrives.
      size_t partial = raw.size() - pos;
      if (partial > 0 && raw.back() == '\r') --partial;
      if (partial > 0 && partial + 2 > field_size)
        return Fail(error, 431, "header field too large");
      if (raw.size() > max_head)
        return Fail(error, 431, "request headers too large");
      return ParseStatus::kNeedMore;
    }
    std::string_view line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    // The limit counts each line with its CRLF, as Gunicorn's does.
    if (line.size() + 2 > field_size)
      return Fail(error, 431, "header field too large");
    if (IsOws(line[0])) {
      if (!limits.permit_obsolete_folding)
        return Fail(error, 400, "obsolete line folding in headers");
      if (field_count == 0)
        return Fail(error, 400, "invalid header: folding first line");
      for (unsigned char c : line)
        if (!IsFieldValueChar(c))
          return Fail(error, 400, "invalid header value");
      folded_size += line.size() + 2;
      if (folded_size > field_size)
        return Fail(error, 431, "header field too large");
      if (last_dropped) continue;
      HeaderField& last = head->headers.back();
      std::string joined(last.value);
      std::string_view more = Trim(line);
      if (!more.empty()) {
        if (!joined.empty()) joined += ' ';
        joined += more;
      }
      head->folded.push_back(std::move(joined));
      last.value = head->folded.back();
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return Fail(error, 400, "invalid header: no colon");
    std::string_view name = line.substr(0, colon);
    if (name.empty()) return Fail(error, 400, "invalid header name");
    for (unsigned char c : name)
      if (!IsTokenChar(c)) return Fail(error, 400, "invalid header name");
    folded_size = line.size() + 2;
    std::string_view value = Trim(line.substr(colon + 1));
    for (unsigned char c : value)
      if (!IsFieldValueChar(c)) return Fail(error, 400, "invalid header value");
    if (++field_count > limits.fields)
      return Fail(error, 431, "too many header fields");
    last_dropped = false;
    if (name.find('_') != std::string_view::npos) {
      if (limits.header_map == HeaderMap::kRefuse)
        return Fail(error, 400, "invalid header name: '_' refused");
      if (limits.header_map == HeaderMap::kDrop) {
        last_dropped = true;
        continue;
      }
    }
    head->headers.push_back({name, value});
  }
  if (ParseStatus s = ApplyHeaderSemantics(head, error);
      s != ParseStatus::kDone)
    return s;
  *consumed = start + head->raw.size();
  return ParseStatus::kDone;
}

}  // namespace wsgid
