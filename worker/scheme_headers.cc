#include "worker/scheme_headers.h"

#include <string_view>

namespace wsgid {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

ForwardedScheme SchemeFromHeaders(
    const RequestHead& head,
    const std::vector<std::string>& secure_scheme_headers) {
  ForwardedScheme scheme = ForwardedScheme::kNone;
  for (const HeaderField& h : head.headers) {
    for (std::string_view pair : secure_scheme_headers) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || !SameName(h.name, pair.substr(0, eq)))
        continue;
      ForwardedScheme said = h.value == pair.substr(eq + 1)
                                 ? ForwardedScheme::kHttps
                                 : ForwardedScheme::kHttp;
      if (scheme != ForwardedScheme::kNone && said != scheme)
        return ForwardedScheme::kContradictory;
      scheme = said;
      break;  // a header name is configured once (Gunicorn's is a dict)
    }
  }
  return scheme;
}

}  // namespace wsgid
