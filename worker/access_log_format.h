// Gunicorn's access log format (--access-logformat), parsed once into atoms,
// and the line it makes for one request: text, or a JSON record
// (--log-format json) whose fields are stable whatever the format says.
//
// Atoms: h remote address, l '-', u user (BasicAuthUser, else '-'), t time, r
// request line, m method, U path, q query, H protocol, s status, B body bytes,
// b body bytes or
// '-', f referer, a user agent, T seconds, M milliseconds, D microseconds, L
// seconds (decimal), p pid, {name}i request header, {name}o response header,
// {name}e WSGI environ value (after the app ran; Gunicorn's lowercase key
// matches the environ's key whatever its case). An unknown atom is '-'.
//
// JSON fields: time, level ("info"), pid, worker, process ("worker"), stream
// ("access"), message (the text line), remote_addr, method, path, query,
// protocol, request_line, status, bytes, referer, user_agent, user (the u
// atom; null when unknown), duration_s, duration_us, request_id (X-Request-ID
// of the response, else of the request; null when neither), and
// request_headers / response_headers / environ objects holding the {name}i,
// {name}o and {name}e atoms the format names (keys as written there).
//
// Immutable after construction: thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "common/log_record.h"
#include "worker/connection.h"
#include "worker/http_parser.h"

namespace wsgid {

// The user name of an "Authorization: Basic <base64 of user:password>" header
// value, as Gunicorn finds it: the scheme matched without case, the
// credentials decoded as Python's base64.b64decode does (characters outside
// the alphabet skipped, padding required), the part before the first ':'.
// "" when there is none: another scheme, base64 that does not decode, a name
// that is not UTF-8, an empty name.
std::string BasicAuthUser(std::string_view authorization);

struct AccessLogEntry {
  const Connection* conn;
  const RequestHead* head;
  int status;
  int64_t body_bytes;
  int64_t duration_us;
  const std::vector<std::pair<std::string, std::string>>* response_headers;
  // The values of AccessLogFormat::environ_keys(), in order ("-" when absent);
  // nullptr when the format has no {name}e atom.
  const std::vector<std::string>* environ_values = nullptr;
};

class AccessLogFormat {
 public:
  explicit AccessLogFormat(const std::string& format = "");
  // The names of the {name}e atoms, in order of first use.
  const std::vector<std::string>& environ_keys() const { return environ_keys_; }
  // The text line (no newline).
  std::string Text(const AccessLogEntry& e, const timespec& now, int pid) const;
  // The JSON record, newline included.
  std::string Json(const AccessLogEntry& e, const timespec& now, int pid,
                   int worker_id) const;

 private:
  enum class Kind {
    kLiteral,
    kLetter,
    kRequestHeader,
    kResponseHeader,
    kEnviron,
    kUnknown
  };
  struct Atom {
    Kind kind;
    std::string text;  // the literal, the letter or the name
    size_t environ_index = 0;
  };
  void AppendAtom(const Atom& atom, const AccessLogEntry& e,
                  const timespec& now, int pid, std::string* out) const;
  std::vector<Atom> atoms_;
  std::vector<std::string> environ_keys_;
};

}  // namespace wsgid
