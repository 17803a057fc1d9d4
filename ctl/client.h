// ControlClient: one HTTP/JSON exchange with the control API, over a UNIX
// socket or TCP.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "common/status.h"
#include "ctl/endpoint.h"

namespace wsgid::ctl {

// What the daemon answered. Any HTTP status is an answer; only a failed
// exchange is not.
struct ApiResponse {
  int status = 0;
  // The parsed body; null when it was empty or not JSON (then `raw` still has
  // it).
  nlohmann::json body;
  std::string raw;
};

class ControlClient {
 public:
  explicit ControlClient(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  const Endpoint& endpoint() const { return endpoint_; }

  // Sends `method` `path` with `body` as JSON (none when nullopt). An error
  // Status means the daemon could not be reached or the exchange broke off; its
  // message says where and why.
  StatusOr<ApiResponse> Send(
      const std::string& method, const std::string& path,
      const std::optional<nlohmann::json>& body = std::nullopt);

  StatusOr<ApiResponse> Get(const std::string& path) {
    return Send("GET", path);
  }

 private:
  Endpoint endpoint_;
};

}  // namespace wsgid::ctl
