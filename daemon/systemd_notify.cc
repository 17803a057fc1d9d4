#include "daemon/systemd_notify.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "common/unique_fd.h"

namespace wsgid {

std::optional<NotifyAddress> ParseNotifySocket(const std::string& path) {
  NotifyAddress a{};
  a.addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.addr.sun_path)
    return std::nullopt;
  std::memcpy(a.addr.sun_path, path.data(), path.size());
  if (a.addr.sun_path[0] == '@') a.addr.sun_path[0] = '\0';
  a.length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  return a;
}

void NotifySystemd(const std::string& state) {
  const char* path = ::getenv("NOTIFY_SOCKET");
  if (path == nullptr) return;
  std::optional<NotifyAddress> address = ParseNotifySocket(path);
  if (!address) return;
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return;
  ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
           reinterpret_cast<const sockaddr*>(&address->addr), address->length);
}

}  // namespace wsgid
