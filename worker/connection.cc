#include "worker/connection.h"

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

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
  ssize_t n;
  do {
    n = ::recv(fd, buffer, max, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) in.append(buffer, static_cast<size_t>(n));
  read_full = n == static_cast<ssize_t>(max);
  return n;
}

StatusOr<size_t> Connection::ReadBlocking(double timeout_s, size_t max) {
  while (true) {
    ssize_t n = ReadAvailable(max);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EAGAIN) return Status::FromErrno("read", errno);
    if (!WaitFor(fd, POLLIN, timeout_s))
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
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return Status::FromErrno("write", errno);
      if (!WaitFor(fd, POLLOUT, timeout_s))
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

StatusOr<int64_t> Connection::SendFile(int file_fd, int64_t offset,
                                       int64_t count, double timeout_s) {
  off_t off = offset;
  int64_t sent = 0;
  while (sent < count) {
    ssize_t n =
        ::sendfile(fd, file_fd, &off, static_cast<size_t>(count - sent));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return Status::FromErrno("sendfile", errno);
      if (!WaitFor(fd, POLLOUT, timeout_s))
        return Status::Error(StatusCode::kDeadlineExceeded, "write timed out");
      continue;
    }
    if (n == 0) break;  // the file is shorter than announced
    sent += n;
  }
  return sent;
}

void Connection::Reset(int new_fd, int listener_index) {
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
