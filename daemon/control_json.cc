#include "daemon/control_json.h"

#include "common/status_codes.h"

namespace wsgid {

using nlohmann::json;

ApiAnswer JsonAnswer(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

ApiAnswer ErrorAnswer(const Status& status) {
  const StatusCodeRow& row = StatusCodeInfo(status.code());
  return ErrorAnswer(row.http_status, row.api_error, status.message());
}

ApiAnswer ErrorAnswer(int http_status, const std::string& error,
                      const std::string& detail) {
  return JsonAnswer(http_status, json{{"error", error}, {"detail", detail}});
}

StatusOr<json> ParseObject(const std::string& body,
                           std::initializer_list<const char*> allowed) {
  json doc;
  try {
    doc = body.empty() ? json::object() : json::parse(body);
  } catch (const json::exception& e) {
    return Status::Error(StatusCode::kMalformed,
                         std::string("malformed JSON: ") + e.what());
  }
  if (!doc.is_object())
    return Status::Error(StatusCode::kMalformed,
                         "the body must be a JSON object");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    bool known = false;
    for (const char* name : allowed) known |= it.key() == name;
    if (!known)
      return Status::Error(StatusCode::kMalformed,
                           "unknown field '" + it.key() + "'");
  }
  return doc;
}

}  // namespace wsgid
