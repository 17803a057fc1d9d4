// Where the control API is: a UNIX socket (the default) or a TCP URL with a
// bearer token.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace wsgid::ctl {

struct Endpoint {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string socket_path;  // kUnix
  std::string host;         // kTcp
  int port = 0;             // kTcp
  std::string token;        // empty: no Authorization header
  bool tls = false;         // https:// (issue 17)
  std::string cacert;       // --cacert: CA file to verify the daemon with

  // How the endpoint is named in messages: the socket path or the URL.
  std::string Describe() const;
};

// What the user asked for on the command line and in the environment.
struct EndpointRequest {
  std::optional<std::string> socket;      // -s/--socket
  std::optional<std::string> url;         // --url
  std::optional<std::string> token_file;  // --token-file
  std::optional<std::string> env_socket;  // $WSGICTL_SOCKET
  std::optional<std::string> cacert;      // --cacert (https:// URLs)
};

// Resolves the request into an endpoint: reads the token file and checks the
// URL. An error here is a usage error (nothing has been sent yet).
StatusOr<Endpoint> ResolveEndpoint(const EndpointRequest& request);

}  // namespace wsgid::ctl
