#include "worker/transport.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wsgid {
namespace {

// One TLS record's worth: small pieces of a response (head, chunk framing,
// body) are gathered into one record instead of one each.
constexpr size_t kGatherBytes = 16384;

class Plain : public Transport {
 public:
  ssize_t Recv(int fd, char* buffer, size_t size) override {
    ssize_t n;
    do {
      n = ::recv(fd, buffer, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  ssize_t Sendv(int fd, const iovec* iov, int iovcnt) override {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    ssize_t n;
    do {
      n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
};

std::string NameText(X509_NAME* name) {
  if (name == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(std::max(0L, len)));
  BIO_free(bio);
  return text;
}

}  // namespace

Transport* PlainTransport() {
  static Plain plain;
  return &plain;
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

ssize_t TlsTransport::Fail(int result) {
  int error = SSL_get_error(ssl_, result);
  want_ = 0;
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    want_ = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    errno = EAGAIN;
    return -1;
  }
  // Ragged EOFs are an end like any other (SSL_OP_IGNORE_UNEXPECTED_EOF).
  ERR_clear_error();
  if (error == SSL_ERROR_ZERO_RETURN) return 0;
  if (error != SSL_ERROR_SYSCALL || errno == 0 || errno == EAGAIN)
    errno = ECONNRESET;
  return -1;
}

ssize_t TlsTransport::Recv(int, char* buffer, size_t size) {
  int n =
      SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) {
    want_ = 0;
    return n;
  }
  return Fail(n);
}

ssize_t TlsTransport::Sendv(int, const iovec* iov, int iovcnt) {
  const void* data = iov[0].iov_base;
  size_t size = iov[0].iov_len;
  thread_local char gather[kGatherBytes];
  if (iovcnt > 1 && size < kGatherBytes) {
    // Deterministic for the same iov, as a retry after EAGAIN needs.
    size = 0;
    for (int i = 0; i < iovcnt && size < kGatherBytes; ++i) {
      size_t take = std::min(iov[i].iov_len, kGatherBytes - size);
      std::memcpy(gather + size, iov[i].iov_base, take);
      size += take;
    }
    data = gather;
  }
  int n =
      SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) {
    want_ = 0;
    return n;
  }
  return Fail(n);
}

TlsTransport::Handshake TlsTransport::DoHandshake(std::string* error) {
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    want_ = 0;
    ReadClientCertificate();
    return Handshake::kDone;
  }
  int code = SSL_get_error(ssl_, rc);
  if (code == SSL_ERROR_WANT_READ) return Handshake::kWantRead;
  if (code == SSL_ERROR_WANT_WRITE) return Handshake::kWantWrite;
  unsigned long last = ERR_peek_last_error();
  char text[256] = "connection closed";
  if (last != 0) ERR_error_string_n(last, text, sizeof text);
  ERR_clear_error();
  *error = text;
  return Handshake::kFailed;
}

void TlsTransport::Shutdown() {
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  ERR_clear_error();
}

void TlsTransport::ReadClientCertificate() {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return;
  client_subject_ = NameText(X509_get_subject_name(cert));
  client_issuer_ = NameText(X509_get_issuer_name(cert));
  client_verified_ = SSL_get_verify_result(ssl_) == X509_V_OK;
  X509_free(cert);
}

}  // namespace wsgid
