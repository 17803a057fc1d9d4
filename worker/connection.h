// Connection: one accepted client socket, its buffered input, and the
// blocking-with- timeout I/O an app thread uses while it owns the connection.
//
// Ownership: a connection is owned by exactly one thread at a time (the app
// thread that woke for it, or the reaper that expires it); the owner changes
// only through a compare-and-swap on `word` (see ConnectionSet). Only the
// owner touches the rest.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "worker/transport.h"

struct _object;  // PyObject, without including Python here

namespace wsgid {

class Connection {
 public:
  enum State : uint64_t { kFree = 0, kActive = 1, kParked = 2, kClosing = 3 };

  // The (generation << 8 | state) word; generations tell a recycled fd from the
  // old one.
  std::atomic<uint64_t> word{kFree};
  // CLOCK_MONOTONIC ns after which a parked connection is expired by the
  // reaper.
  std::atomic<int64_t> deadline_ns{0};
  // Parked with a complete head, for the rest of its body
  // (RequestLoop::AwaitsBody): the request was sent, so a drain does not
  // shorten its deadline.
  std::atomic<bool> awaiting_body{false};

  // issue 17: what must happen before HTTP (ConnectionPreface): a PROXY
  // header, a TLS handshake, or nothing.
  enum class Stage : uint8_t { kProxyHeader, kHandshake, kHttp };
  Stage stage = Stage::kHttp;
  // Every read and write goes through it: PlainTransport(), or `tls`.
  Transport* transport = PlainTransport();
  std::unique_ptr<TlsTransport> tls;  // set for a connection on a TLS listener

  int fd = -1;
  int listener = 0;         // index of the listening socket it came from
  bool registered = false;  // added to the epoll set already
  // The last read filled all the room it was given, so more may be waiting in
  // the socket: an edge-triggered registration would not report it again.
  bool read_full = false;
  // epoll reported the peer's half-close (or an error): read to the end after
  // each response, as no further edge will come.
  bool hangup = false;
  bool is_unix = false;
  // Chosen to close after its response because the worker is above its share
  // of connections (counted in ConnectionBalance until it closes).
  bool shed = false;
  std::string remote_addr;  // "" for UNIX sockets
  std::string remote_port;
  std::string in;  // bytes received and not consumed yet start at in_pos
  size_t in_pos = 0;
  uint64_t requests = 0;  // requests served on this connection
  // Per-connection environ values (REMOTE_ADDR, REMOTE_PORT) built once by the
  // WSGI handler, valid while py_generation is the connection's generation.
  // Owned references, released (with the GIL) by the handler when it finds
  // them stale; Reset() leaves them alone because it runs without the GIL.
  _object* py_remote_addr = nullptr;
  _object* py_remote_port = nullptr;
  uint64_t py_generation = 0;

  static uint64_t Generation(uint64_t word) { return word >> 8; }
  static State StateOf(uint64_t word) {
    return static_cast<State>(word & 0xff);
  }
  static uint64_t Make(uint64_t generation, State state) {
    return generation << 8 | state;
  }

  std::string_view Pending() const {
    return std::string_view(in).substr(in_pos);
  }
  void Consume(size_t n);

  // Reads what is available without blocking. >0 bytes appended, 0 on EOF, -1
  // with errno EAGAIN when nothing is there yet, -1 with another errno on
  // error.
  ssize_t ReadAvailable(size_t max = 65536);

  // Reads at least one byte, waiting up to `timeout_s`. Returns bytes read; 0
  // on EOF; an error Status on timeout or a socket error.
  StatusOr<size_t> ReadBlocking(double timeout_s, size_t max = 65536);

  // Writes every byte of `iov`, waiting up to `timeout_s` between progress.
  Status WriteAll(struct iovec* iov, int iovcnt, double timeout_s);
  Status WriteAll(std::string_view data, double timeout_s);

  // Sends `count` bytes of `file_fd` from `offset` with sendfile(2); returns
  // bytes sent (fewer only if the file was shorter).
  StatusOr<int64_t> SendFile(int file_fd, int64_t offset, int64_t count,
                             double timeout_s);

  // Resets the per-connection fields for a newly accepted socket.
  void Reset(int new_fd, int listener_index);

  // Makes the connection TLS (before its first byte is read); takes `ssl`.
  void StartTls(SSL* ssl);
  // Frees the TLS state, if any (the owner, when closing).
  void EndTls();

 private:
  // Waits up to timeout_s for the transport to be able to go on after EAGAIN
  // (`asked`: POLLIN or POLLOUT); false on timeout.
  bool Await(short asked, double timeout_s) const;
  StatusOr<int64_t> SendFileBuffered(int file_fd, int64_t offset, int64_t count,
                                     double timeout_s);
};

}  // namespace wsgid
