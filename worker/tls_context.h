// TlsContext: the worker's OpenSSL 3 server context (issue 17), built once at
// boot from --certfile, --keyfile, --ca-certs, --cert-reqs, --ciphers and the
// minimum version, and the factory of each TLS connection's SSL object.
//
// - Versions: TLS 1.2 (or 1.3 with --ssl-min-version TLSv1.3) and up; 1.0 and
//   1.1 never. TLS 1.2 ciphers: ECDHE with AES-GCM or ChaCha20 unless
//   --ciphers says otherwise. Renegotiation off. ALPN: http/1.1 (a client
//   offering only other protocols is answered without ALPN).
// - Session resumption across the workers: stateless tickets whose keys every
//   worker derives from one secret (WSGID_TLS_TICKET_SEED, put in the
//   environment by the master and removed from the worker's before the app
//   starts; a standalone worker makes its own) and the current hour of
//   CLOCK_MONOTONIC, which all processes on the machine share: a ticket issued
//   by one worker resumes on any other; the keys rotate hourly, the previous
//   hour's still accepted (and its tickets renewed).
// - wsgi.file_wrapper: kernel TLS (SSL_sendfile) when OpenSSL and the kernel
//   offer it, else a buffered read-and-write loop; Create logs which.
//
// Certificates are read here, at boot: a new worker generation (HUP) reads
// renewed files. Thread-safe after Create (SSL_new from any thread).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

class TlsContext {
 public:
  // Reads the files and builds the context; errors are kInvalidArgument with
  // the file and OpenSSL's reason. Reads (and removes) the ticket seed from
  // the environment.
  static StatusOr<std::unique_ptr<TlsContext>> Create(const Config& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Removes the master's ticket seed from the environment unused (a worker
  // without a TLS listener), so the app never sees it.
  static void DiscardTicketSeed();

  // A server SSL object for an accepted socket, in accept state; nullptr
  // when OpenSSL is out of memory.
  SSL* NewSession(int fd) const;

  // Whether wsgi.file_wrapper can use SSL_sendfile (kernel TLS) on a
  // connection whose handshake is done.
  static bool KernelTlsSend(SSL* ssl);

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

}  // namespace wsgid
