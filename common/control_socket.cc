#include "common/control_socket.h"

#include <unistd.h>

#include <cstdlib>

namespace wsgid {

std::string DefaultControlSocketPath() {
  if (::geteuid() == 0) return "/run/wsgid.sock";
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR");
      runtime != nullptr && runtime[0] != '\0')
    return std::string(runtime) + "/wsgid.sock";
  return "/tmp/wsgid-" + std::to_string(::geteuid()) + ".sock";
}

}  // namespace wsgid
