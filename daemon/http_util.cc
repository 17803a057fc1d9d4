#include "daemon/http_util.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/listener.h"

namespace wsgid {

void ConfigureSmallServer(httplib::Server* server, size_t max_body_bytes) {
  server->new_task_queue = [] { return new httplib::ThreadPool(4); };
  server->set_keep_alive_max_count(20);
  server->set_keep_alive_timeout(1);
  server->set_read_timeout(2, 0);
  server->set_write_timeout(2, 0);
  server->set_payload_max_length(max_body_bytes);
}

Status ListenTcp(httplib::Server* server, const std::string& bind,
                 std::thread* thread) {
  auto address = ParseBindAddress(bind);
  if (!address.ok()) return address.status();
  if (address->kind != BindAddress::Kind::kTcp)
    return Status::InvalidArgument(bind + ": expected HOST:PORT");
  if (!server->bind_to_port(address->host, address->port))
    return Status::Unavailable("cannot listen on " + bind + " (in use?)");
  *thread = std::thread([server] { server->listen_after_bind(); });
  return Status::Ok();
}

Status ListenUnix(httplib::Server* server, const std::string& path, int mode,
                  std::thread* thread) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::InvalidArgument(path + " exists and is not a socket");
    // A socket somebody still answers on belongs to a running wsgid: leave it
    // alone.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
    bool live =
        ::connect(probe, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
    ::close(probe);
    if (live) return Status::Unavailable("another process answers on " + path);
    ::unlink(path.c_str());
  }
  server->set_address_family(AF_UNIX);
  // Created without group or other permissions from the first instant (the
  // umask is process-wide, and no other thread creates files while the master
  // starts).
  mode_t old = ::umask(0177);
  bool bound = server->bind_to_port(path, 80);
  ::umask(old);
  if (!bound) return Status::FromErrno("cannot listen on " + path, errno);
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0)
    return Status::FromErrno("chmod " + path, errno);
  *thread = std::thread([server] { server->listen_after_bind(); });
  return Status::Ok();
}

}  // namespace wsgid
