// The control API's bearer token file, read the same way by the master
// (--control-token-file) and by wsgictl (--token-file), so a file one side
// accepts the other accepts too.
#pragma once

#include <string>

#include "common/status.h"

namespace wsgid {

// The token in `path` without surrounding white space. An error naming
// `path` when the file cannot be read, holds nothing but white space, or holds
// more than one line: a line break inside would end the Authorization header
// early and smuggle the rest into the request.
StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace wsgid
