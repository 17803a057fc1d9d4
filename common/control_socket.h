// Where the control API's UNIX socket lives when --control-socket is not given:
// the one place both the daemon (which creates it) and wsgictl (which looks for
// it) take it from, so they cannot disagree.
#pragma once

#include <string>

namespace wsgid {

// /run/wsgid.sock for root, else $XDG_RUNTIME_DIR/wsgid.sock, else
// /tmp/wsgid-<euid>.sock.
std::string DefaultControlSocketPath();

}  // namespace wsgid
