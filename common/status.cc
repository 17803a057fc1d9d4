#include "common/status.h"

#include <cstring>

namespace wsgid {

Status Status::FromErrno(const std::string& what, int err) {
  return Error(what + ": " + std::strerror(err));
}

}  // namespace wsgid
