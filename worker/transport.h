// Transport: how a connection's bytes cross its socket, plain or TLS (issue
// 17). Connection reads and writes only through it, so the parser, the body
// reader and the response writer never know whether bytes are encrypted.
//
// Both follow recv(2)/sendmsg(2): a count, 0 at the end of the stream, or -1
// with errno (EAGAIN: wait for WaitEvents(), then call again with the same
// arguments; anything else: the connection is broken). A TLS transport may
// need the socket writable to read or readable to write (a key update), which
// is why the caller asks WaitEvents() instead of assuming.
//
// Ownership: the plain transport is one stateless object for every
// connection; a TlsTransport belongs to its connection and frees its SSL
// object. Used only by the thread that owns the connection.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <string>

namespace wsgid {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual ssize_t Recv(int fd, char* buffer, size_t size) = 0;
  // Writes from the front of iov (iovcnt >= 1); returns the bytes taken.
  virtual ssize_t Sendv(int fd, const iovec* iov, int iovcnt) = 0;
  // The poll(2) events to wait for after EAGAIN; `asked` is what the caller
  // was doing (POLLIN to read, POLLOUT to write).
  virtual short WaitEvents(short asked) const { return asked; }
  virtual bool encrypted() const { return false; }
};

// recv and sendmsg, as they are.
Transport* PlainTransport();

class TlsTransport : public Transport {
 public:
  // Takes ownership of `ssl` (in accept state, bound to the socket).
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}
  ~TlsTransport() override;

  ssize_t Recv(int fd, char* buffer, size_t size) override;
  ssize_t Sendv(int fd, const iovec* iov, int iovcnt) override;
  short WaitEvents(short asked) const override {
    return want_ != 0 ? want_ : asked;
  }
  bool encrypted() const override { return true; }

  enum class Handshake { kDone, kWantRead, kWantWrite, kFailed };
  // Advances the handshake without blocking; kFailed sets *error (a
  // protocol version refused, plaintext HTTP, a missing client certificate).
  Handshake DoHandshake(std::string* error);
  // Sends close_notify if the socket takes it now (never waits).
  void Shutdown();

  SSL* ssl() const { return ssl_; }
  // Set when the handshake completes: the client certificate's subject and
  // issuer (RFC 2253), empty without one; whether it verified.
  const std::string& client_subject() const { return client_subject_; }
  const std::string& client_issuer() const { return client_issuer_; }
  bool client_verified() const { return client_verified_; }

 private:
  // Maps an SSL_* result to the recv/send convention (errno, want_).
  ssize_t Fail(int result);
  void ReadClientCertificate();

  SSL* ssl_;
  short want_ = 0;
  std::string client_subject_;
  std::string client_issuer_;
  bool client_verified_ = false;
};

}  // namespace wsgid
