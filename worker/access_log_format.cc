#include "worker/access_log_format.h"

#include <cstdint>
#include <cstdio>

namespace wsgid {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string* ResponseHeader(const Headers* headers,
                                  std::string_view name) {
  if (headers == nullptr) return nullptr;
  for (const auto& [n, v] : *headers)
    if (EqualsIgnoreCase(n, name)) return &v;
  return nullptr;
}

std::string_view RequestHeaderOr(const RequestHead* head,
                                 std::string_view name) {
  const HeaderField* h = head->Find(name);
  return h ? h->value : std::string_view("-");
}

// base64's value of `c`: 0...63, or -1 outside the alphabet.
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes as Python's binascii.a2b_base64 (what base64.b64decode calls) does
// when not strict: characters outside the alphabet are skipped, and '='
// padding ends the data once a quantum is complete; false where Python raises
// binascii.Error (a quantum left incomplete without its padding).
bool DecodeBase64Lenient(std::string_view in, std::string* out) {
  uint32_t bits = 0;
  int quad = 0;  // base64 characters of the current 4-character quantum
  int pads = 0;
  for (char c : in) {
    if (c == '=') {
      if (quad < 2 || quad + ++pads < 4) continue;
      // The padded quantum's bytes: 1 of 2 characters, 2 of 3.
      bits <<= 6 * (4 - quad);
      for (int shift = 16; shift >= 8 * (4 - quad); shift -= 8)
        out->push_back(static_cast<char>((bits >> shift) & 0xFF));
      return true;
    }
    int v = Base64Value(c);
    if (v < 0) continue;
    pads = 0;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++quad == 4) {
      for (int shift = 16; shift >= 0; shift -= 8)
        out->push_back(static_cast<char>((bits >> shift) & 0xFF));
      bits = 0;
      quad = 0;
    }
  }
  return quad == 0;
}

std::string_view Version(const RequestHead* head) {
  return head->version_minor >= 1 ? "HTTP/1.1" : "HTTP/1.0";
}

std::string ApacheTime(const timespec& now) {
  struct tm local;
  ::localtime_r(&now.tv_sec, &local);
  char buf[64];
  size_t n = ::strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S %z]", &local);
  return std::string(buf, n);
}

std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(us) / 1e6);
  return buf;
}

// A one-letter atom (the list is in the header); '-' for an unknown one.
std::string LetterAtom(char atom, const AccessLogEntry& e, const timespec& now,
                       int pid) {
  switch (atom) {
    case 'h':
      return e.conn->remote_addr.empty() ? "-" : e.conn->remote_addr;
    case 't':
      return ApacheTime(now);
    case 'r':
      return std::string(e.head->method) + " " + std::string(e.head->target) +
             " " + std::string(Version(e.head));
    case 'm':
      return std::string(e.head->method);
    case 'U':
      return std::string(e.head->path);
    case 'q':
      return std::string(e.head->query);
    case 'H':
      return std::string(Version(e.head));
    case 's':
      return std::to_string(e.status);
    case 'B':
      return std::to_string(e.body_bytes);
    case 'b':
      return e.body_bytes > 0 ? std::to_string(e.body_bytes) : "-";
    case 'f':
      return std::string(RequestHeaderOr(e.head, "referer"));
    case 'a':
      return std::string(RequestHeaderOr(e.head, "user-agent"));
    case 'T':
      return std::to_string(e.duration_us / 1000000);
    case 'M':
      return std::to_string(e.duration_us / 1000);
    case 'D':
      return std::to_string(e.duration_us);
    case 'L':
      return Seconds(e.duration_us);
    case 'p':
      return "<" + std::to_string(pid) + ">";
    case 'u': {
      const HeaderField* auth = e.head->Find("authorization");
      std::string user = auth ? BasicAuthUser(auth->value) : "";
      return user.empty() ? "-" : user;
    }
    default:
      return "-";  // l and unknown letters
  }
}

// {"name": "value", ...} of the atoms of `kind`.
template <typename Lookup>
std::string AtomObject(const std::vector<std::string>& names, Lookup lookup) {
  std::string out = "{";
  for (const std::string& name : names) {
    if (out.size() > 1) out += ", ";
    AppendJsonString(name, &out);
    out += ": ";
    AppendJsonString(lookup(name), &out);
  }
  return out + "}";
}

}  // namespace

std::string BasicAuthUser(std::string_view authorization) {
  // Gunicorn: the value lowercased starts with "basic", and what follows its
  // first space, stripped, is the base64.
  constexpr std::string_view kScheme = "basic";
  size_t space = authorization.find(' ');
  if (authorization.size() < kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      space == std::string_view::npos)
    return "";
  std::string decoded;
  if (!DecodeBase64Lenient(authorization.substr(space + 1), &decoded))
    return "";
  std::string user = decoded.substr(0, decoded.find(':'));
  return IsValidUtf8(user) ? user : "";
}

AccessLogFormat::AccessLogFormat(const std::string& f) {
  std::string literal;
  for (size_t i = 0; i < f.size(); ++i) {
    // An atom is %(x)s or %({name}i)s.
    size_t close = f[i] == '%' && i + 1 < f.size() && f[i + 1] == '('
                       ? f.find(")s", i + 2)
                       : std::string::npos;
    if (close == std::string::npos) {
      literal += f[i];
      continue;
    }
    if (!literal.empty()) atoms_.push_back({Kind::kLiteral, literal});
    literal.clear();
    std::string atom = f.substr(i + 2, close - i - 2);
    i = close + 1;
    if (atom.size() == 1) {
      atoms_.push_back({Kind::kLetter, atom});
    } else if (atom.size() > 3 && atom.front() == '{' &&
               atom[atom.size() - 2] == '}') {
      std::string name = atom.substr(1, atom.size() - 3);
      char which = atom.back();
      Kind kind = which == 'i'   ? Kind::kRequestHeader
                  : which == 'o' ? Kind::kResponseHeader
                  : which == 'e' ? Kind::kEnviron
                                 : Kind::kUnknown;
      Atom a{kind, name};
      if (kind == Kind::kEnviron) {
        size_t k = 0;
        while (k < environ_keys_.size() && environ_keys_[k] != name) ++k;
        if (k == environ_keys_.size()) environ_keys_.push_back(name);
        a.environ_index = k;
      }
      atoms_.push_back(a);
    } else {
      atoms_.push_back({Kind::kUnknown, atom});
    }
  }
  if (!literal.empty()) atoms_.push_back({Kind::kLiteral, literal});
}

void AccessLogFormat::AppendAtom(const Atom& atom, const AccessLogEntry& e,
                                 const timespec& now, int pid,
                                 std::string* out) const {
  switch (atom.kind) {
    case Kind::kLiteral:
      *out += atom.text;
      break;
    case Kind::kLetter:
      *out += LetterAtom(atom.text[0], e, now, pid);
      break;
    case Kind::kRequestHeader:
      *out += RequestHeaderOr(e.head, atom.text);
      break;
    case Kind::kResponseHeader: {
      const std::string* v = ResponseHeader(e.response_headers, atom.text);
      *out += v ? *v : "-";
      break;
    }
    case Kind::kEnviron:
      *out += e.environ_values && atom.environ_index < e.environ_values->size()
                  ? (*e.environ_values)[atom.environ_index]
                  : "-";
      break;
    case Kind::kUnknown:
      *out += '-';
      break;
  }
}

std::string AccessLogFormat::Text(const AccessLogEntry& e, const timespec& now,
                                  int pid) const {
  std::string out;
  for (const Atom& atom : atoms_) AppendAtom(atom, e, now, pid, &out);
  return out;
}

std::string AccessLogFormat::Json(const AccessLogEntry& e, const timespec& now,
                                  int pid, int worker_id) const {
  JsonLine j;
  j.Text("time", Rfc3339Time(now));
  j.Text("level", "info");
  j.Int("pid", pid);
  j.Int("worker", worker_id);
  j.Text("process", ProcessKindName(ProcessKind::kWorker));
  j.Text("stream", "access");
  j.Text("message", Text(e, now, pid));
  const char* fields[][2] = {{"remote_addr", "h"}, {"method", "m"},
                             {"path", "U"},        {"query", "q"},
                             {"protocol", "H"},    {"request_line", "r"}};
  for (const auto& [key, letter] : fields)
    j.Text(key, LetterAtom(letter[0], e, now, pid));
  j.Int("status", e.status);
  j.Int("bytes", e.body_bytes);
  j.Text("referer", RequestHeaderOr(e.head, "referer"));
  j.Text("user_agent", RequestHeaderOr(e.head, "user-agent"));
  const HeaderField* auth = e.head->Find("authorization");
  if (std::string user = auth ? BasicAuthUser(auth->value) : ""; !user.empty())
    j.Text("user", user);
  else
    j.Null("user");
  j.Number("duration_s", static_cast<double>(e.duration_us) / 1e6);
  j.Int("duration_us", e.duration_us);
  const std::string* id = ResponseHeader(e.response_headers, "x-request-id");
  const HeaderField* in = e.head->Find("x-request-id");
  if (id != nullptr)
    j.Text("request_id", *id);
  else if (in != nullptr)
    j.Text("request_id", in->value);
  else
    j.Null("request_id");
  std::vector<std::string> in_names, out_names;
  for (const Atom& a : atoms_) {
    if (a.kind == Kind::kRequestHeader) in_names.push_back(a.text);
    if (a.kind == Kind::kResponseHeader) out_names.push_back(a.text);
  }
  j.Raw("request_headers", AtomObject(in_names, [&](const std::string& n) {
          return std::string(RequestHeaderOr(e.head, n));
        }));
  j.Raw("response_headers", AtomObject(out_names, [&](const std::string& n) {
          const std::string* v = ResponseHeader(e.response_headers, n);
          return v ? *v : std::string("-");
        }));
  size_t k = 0;
  j.Raw("environ", AtomObject(environ_keys_, [&](const std::string&) {
          const auto* values = e.environ_values;
          return values && k < values->size() ? (*values)[k++]
                                              : std::string("-");
        }));
  return j.Finish();
}

}  // namespace wsgid
