// systemd's notify protocol (Type=notify): state lines such as "READY=1",
// "RELOADING=1", "STOPPING=1" sent as one datagram to $NOTIFY_SOCKET. Without
// that variable nothing is sent. Any thread; best effort (systemd may be gone).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>

namespace wsgid {

// The address of a notify socket path: a file path, or "@name" for the
// abstract namespace; none when empty or too long for sockaddr_un.
struct NotifyAddress {
  sockaddr_un addr;
  socklen_t length;
};
std::optional<NotifyAddress> ParseNotifySocket(const std::string& path);

// Sends `state` to $NOTIFY_SOCKET, if set.
void NotifySystemd(const std::string& state);

}  // namespace wsgid
