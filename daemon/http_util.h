// Helpers shared by the master's two HTTP servers (ops port, control API).
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

#include "common/status.h"

namespace wsgid {

// Short keep-alive, small thread pool, capped bodies, bounded reads: a slow or
// idle client cannot hold the server.
void ConfigureSmallServer(httplib::Server* server, size_t max_body_bytes);

// Binds `server` to HOST:PORT (or [V6]:PORT) and runs it on `*thread`.
Status ListenTcp(httplib::Server* server, const std::string& bind,
                 std::thread* thread);

// Binds `server` to a UNIX socket created with mode `mode` (a stale socket file
// is replaced; a live one, of another wsgid, is an error) and runs it on
// `*thread`.
Status ListenUnix(httplib::Server* server, const std::string& path, int mode,
                  std::thread* thread);

}  // namespace wsgid
