#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace wsgid {

Status Status::FromErrno(const std::string& what, int err) {
  StatusCode code = err == ENOENT   ? StatusCode::kNotFound
                    : err == EINVAL ? StatusCode::kInvalidArgument
                                    : StatusCode::kUnavailable;
  return Error(code, what + ": " + std::strerror(err));
}

}  // namespace wsgid
