#include "worker/connection.h"

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "worker/tls_context.h"

namespace wsgid {
namespace {

// Waits for `events` on fd; false on timeout. EINTR restarts with the full
// timeout, which is fine for the coarse I/O timeouts used here.
bool WaitFor(int fd, short events, double timeout_s) {
  pollfd p{fd, events, 0};
  int ms = static_cast<int>(std::ceil(timeout_s * 1000));
  while (true) {
    int rc = ::poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let the next syscall report the error
  }
}

// SSL_sendfile where OpenSSL has it (kernel TLS); the recv/send convention.
ssize_t SendFileKernelTls(SSL* ssl, int file_fd, off_t offset, int64_t count) {
#if !defined(OPENSSL_NO_KTLS)
  ossl_ssize_t n =
      SSL_sendfile(ssl, file_fd, offset, static_cast<size_t>(count), 0);
  if (n < 0 &&
      (SSL_get_error(ssl, static_cast<int>(n)) == SSL_ERROR_WANT_WRITE))
    errno = EAGAIN;
  return n;
#else
  (void)ssl, (void)file_fd, (void)offset, (void)count;
  errno = EOPNOTSUPP;
  return -1;
#endif
}

}  // namespace

void Connection::Consume(size_t n) {
  in_pos += n;
  if (in_pos >= in.size()) {
    in.clear();
    in_pos = 0;
  } else if (in_pos > 65536 && in_pos * 2 > in.size()) {
    in.erase(0, in_pos);
    in_pos = 0;
  }
}

ssize_t Connection::ReadAvailable(size_t max) {
  // Received into a per-thread buffer and appended, so `in` never zero-fills
  // room it does not use.
  thread_local char buffer[65536];
  max = std::min(max, sizeof buffer);
  ssize_t n = transport->Recv(fd, buffer, max);
  if (n <= 0) {
    read_full = false;
    return n;
  }
  size_t got = static_cast<size_t>(n);
  // TLS hands out one record per call: read on until the room is full or the
  // socket is empty, so edge-triggered parking never misses bytes left in it.
  while (tls != nullptr && got < max) {
    ssize_t more = transport->Recv(fd, buffer + got, max - got);
    if (more <= 0) break;  // EAGAIN, or an end the next read reports
    got += static_cast<size_t>(more);
  }
  in.append(buffer, got);
  // With read-ahead OpenSSL may hold bytes of records not yet decrypted:
  // SSL_has_pending counts those too (SSL_pending does not).
  read_full = got == max || (tls != nullptr && SSL_has_pending(tls->ssl()));
  return static_cast<ssize_t>(got);
}

bool Connection::Await(short asked, double timeout_s) const {
  return WaitFor(fd, transport->WaitEvents(asked), timeout_s);
}

StatusOr<size_t> Connection::ReadBlocking(double timeout_s, size_t max) {
  while (true) {
    ssize_t n = ReadAvailable(max);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EAGAIN) return Status::FromErrno("read", errno);
    if (!Await(POLLIN, timeout_s))
      return Status::Error(StatusCode::kDeadlineExceeded, "read timed out");
  }
}

Status Connection::WriteAll(struct iovec* iov, int iovcnt, double timeout_s) {
  while (iovcnt > 0) {
    if (iov->iov_len == 0) {
      ++iov;
      --iovcnt;
      continue;
    }
    ssize_t n = transport->Sendv(fd, iov, iovcnt);
    if (n < 0) {
      if (errno != EAGAIN) return Status::FromErrno("write", errno);
      if (!Await(POLLOUT, timeout_s))
        return Status::Error(StatusCode::kDeadlineExceeded, "write timed out");
      continue;
    }
    size_t left = static_cast<size_t>(n);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::Ok();
}

Status Connection::WriteAll(std::string_view data, double timeout_s) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  return WriteAll(&iov, 1, timeout_s);
}

StatusOr<int64_t> Connection::SendFileBuffered(int file_fd, int64_t offset,
                                               int64_t count,
                                               double timeout_s) {
  thread_local char buffer[65536];
  int64_t sent = 0;
  while (sent < count) {
    size_t want = static_cast<size_t>(
        std::min<int64_t>(count - sent, static_cast<int64_t>(sizeof buffer)));
    ssize_t n = ::pread(file_fd, buffer, want, offset + sent);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read (file_wrapper)", errno);
    if (n == 0) break;  // the file is shorter than announced
    if (Status s = WriteAll(std::string_view(buffer, static_cast<size_t>(n)),
                            timeout_s);
        !s.ok())
      return s;
    sent += n;
  }
  return sent;
}

StatusOr<int64_t> Connection::SendFile(int file_fd, int64_t offset,
                                       int64_t count, double timeout_s) {
  // Over TLS without kernel TLS the bytes must pass through OpenSSL.
  if (tls != nullptr && !TlsContext::KernelTlsSend(tls->ssl()))
    return SendFileBuffered(file_fd, offset, count, timeout_s);
  off_t off = offset;
  int64_t sent = 0;
  while (sent < count) {
    ssize_t n =
        tls != nullptr
            ? SendFileKernelTls(tls->ssl(), file_fd, off, count - sent)
            : ::sendfile(fd, file_fd, &off, static_cast<size_t>(count - sent));
    if (n > 0 && tls != nullptr) off += n;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return Status::FromErrno("sendfile", errno);
      if (!Await(POLLOUT, timeout_s))
        return Status::Error(StatusCode::kDeadlineExceeded, "write timed out");
      continue;
    }
    if (n == 0) break;  // the file is shorter than announced
    sent += n;
  }
  return sent;
}

void Connection::StartTls(SSL* ssl) {
  tls = std::make_unique<TlsTransport>(ssl);
  transport = tls.get();
}

void Connection::EndTls() {
  transport = PlainTransport();
  tls.reset();
}

void Connection::Reset(int new_fd, int listener_index) {
  EndTls();
  stage = Stage::kHttp;
  fd = new_fd;
  listener = listener_index;
  registered = false;
  read_full = false;
  hangup = false;
  shed = false;
  awaiting_body.store(false, std::memory_order_relaxed);
  in.clear();
  in_pos = 0;
  requests = 0;
  remote_addr.clear();
  remote_port.clear();
}

}  // namespace wsgid
