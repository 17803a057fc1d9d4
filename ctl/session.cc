#include "ctl/session.h"

#include <cstdio>

#include "ctl/exit_codes.h"
#include "ctl/json_fields.h"

namespace wsgid::ctl {
namespace {

// "409 conflict: autoscaling is not available: ..." from the daemon's error
// object, or the bare status when the body is not one (a proxy, an older
// daemon).
std::string DescribeRefusal(const ApiResponse& response) {
  std::string text = "wsgid answered " + std::to_string(response.status);
  std::string error = StringField(response.body, "error", "");
  std::string detail = StringField(response.body, "detail", "");
  if (!error.empty()) text += ": " + error;
  if (!detail.empty()) text += ": " + detail;
  if (error.empty() && detail.empty() && !response.raw.empty() &&
      response.raw.size() < 200) {
    std::string raw = response.raw;
    while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r'))
      raw.pop_back();
    text += ": " + raw;
  }
  return text;
}

}  // namespace

CallResult Session::Call(const std::string& method, const std::string& path,
                         const std::optional<nlohmann::json>& body) {
  CallResult result;
  auto response = client_.Send(method, path, body);
  if (!response.ok()) {
    result.exit_code = ExitCodeFor(Program::kCtl, response.status());
    result.error = response.status().message();
    if (client_.endpoint().kind == Endpoint::Kind::kUnix) {
      result.error +=
          "\n(is wsgid running? -s/--socket or WSGICTL_SOCKET name another "
          "socket)";
    }
    return result;
  }
  result.body = response->body;
  if (StatusCodeFromHttp(response->status) == StatusCode::kUnauthenticated) {
    result.exit_code = kExitUnauthorised;
    result.error = "unauthorised at " + client_.endpoint().Describe() + " (" +
                   DescribeRefusal(*response) + ")";
    result.error += client_.endpoint().token.empty()
                        ? "; pass --token-file with the daemon's token"
                        : "; check the token in --token-file";
    return result;
  }
  if (response->status < 200 || response->status >= 300) {
    result.exit_code = kExitRefused;
    result.error = DescribeRefusal(*response);
    return result;
  }
  return result;
}

int Session::Fail(const CallResult& result) const {
  std::fprintf(stderr, "wsgictl: %s\n", result.error.c_str());
  if (json() && result.body.is_object()) PrintJson(result.body);
  return result.exit_code;
}

void Session::PrintJson(const nlohmann::json& value) {
  // Replace, not throw, on invalid UTF-8 (a request path can hold anything).
  std::printf(
      "%s\n",
      value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
          .c_str());
}

}  // namespace wsgid::ctl
