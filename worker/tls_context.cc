#include "worker/tls_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "common/tls_settings.h"

namespace wsgid {
namespace {

constexpr char kDefaultCiphers[] =
    "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1:!SHA256:!SHA384";
constexpr unsigned char kAlpnHttp11[] = {8,   'h', 't', 't', 'p',
                                         '/', '1', '.', '1'};
constexpr int64_t kTicketEpochNs = int64_t{3600} * kNsPerSec;
constexpr char kSeedVariable[] = "WSGID_TLS_TICKET_SEED";

// The secret every worker derives the ticket keys from (one context per
// process; written once by Create before any handshake).
unsigned char g_ticket_seed[32];

struct TicketKeys {
  unsigned char name[16];
  unsigned char aes[32];
  unsigned char mac[32];
};

void Derive(const char* label, int64_t epoch, unsigned char* out, size_t n) {
  std::string message = std::string(label) + ":" + std::to_string(epoch);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), g_ticket_seed, sizeof g_ticket_seed,
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &len);
  std::memcpy(out, digest, n);
}

// The keys of an hour, derived once per thread and hour: three HMACs per
// ticket cost more than the ticket itself (OpenSSL 3 fetches the algorithms
// on every one-shot call). Two entries: this hour's and the last's.
const TicketKeys& KeysFor(int64_t epoch) {
  struct Cached {
    bool derived = false;  // not an epoch sentinel: -1 is a real epoch
    int64_t epoch = 0;
    TicketKeys keys;
  };
  thread_local Cached cache[2];
  Cached& slot = cache[epoch & 1];
  if (!slot.derived || slot.epoch != epoch) {
    Derive("name", epoch, slot.keys.name, sizeof slot.keys.name);
    Derive("aes", epoch, slot.keys.aes, sizeof slot.keys.aes);
    Derive("mac", epoch, slot.keys.mac, sizeof slot.keys.mac);
    slot.epoch = epoch;
    slot.derived = true;
  }
  return slot.keys;
}

// AES-256-CBC for the tickets, fetched once (EVP_aes_256_cbc() would be
// fetched again on every ticket).
const EVP_CIPHER* TicketCipher() {
  static const EVP_CIPHER* cipher = [] {
    const EVP_CIPHER* fetched =
        EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    return fetched != nullptr ? fetched : EVP_aes_256_cbc();
  }();
  return cipher;
}

int InitMac(EVP_MAC_CTX* mac, const TicketKeys& keys) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  return EVP_MAC_init(mac, keys.mac, sizeof keys.mac, params);
}

// OpenSSL's ticket key callback: encrypt with this hour's key; decrypt with
// this hour's or the last hour's, then ask for a renewed ticket (2) when the
// key was last hour's or the connection is TLS 1.3. TLS 1.3 tickets are meant
// for one use (RFC 8446 C.4) and OpenSSL sends none after a resumption the
// callback answered 1: a client (curl, wrk) resuming with the ticket it last
// got then made a full handshake every other connection.
int TicketKeyCallback(SSL* ssl, unsigned char key_name[16],
                      unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt) {
  int64_t epoch = MonotonicNs() / kTicketEpochNs;
  if (encrypt) {
    const TicketKeys& keys = KeysFor(epoch);
    if (RAND_bytes(iv, 16) != 1) return -1;
    std::memcpy(key_name, keys.name, 16);
    if (EVP_EncryptInit_ex(cipher, TicketCipher(), nullptr, keys.aes, iv) !=
            1 ||
        InitMac(mac, keys) != 1)
      return -1;
    return 1;
  }
  for (int64_t e : {epoch, epoch - 1}) {
    const TicketKeys& keys = KeysFor(e);
    if (std::memcmp(key_name, keys.name, 16) != 0) continue;
    if (EVP_DecryptInit_ex(cipher, TicketCipher(), nullptr, keys.aes, iv) !=
            1 ||
        InitMac(mac, keys) != 1)
      return -1;
    return e == epoch && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
  }
  return 0;  // unknown key: a full handshake
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen,
               const unsigned char* in, unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnHttp11, sizeof kAlpnHttp11,
                            in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

void LoadTicketSeed() {
  const char* hex = std::getenv(kSeedVariable);
  bool loaded = false;
  if (hex != nullptr && std::strlen(hex) == 2 * sizeof g_ticket_seed) {
    loaded = true;
    for (size_t i = 0; i < sizeof g_ticket_seed; ++i) {
      char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};
      char* end = nullptr;
      g_ticket_seed[i] =
          static_cast<unsigned char>(std::strtoul(byte, &end, 16));
      if (*end != '\0') loaded = false;
    }
  }
  // Out of the app's sight (os.environ is built later, from environ).
  ::unsetenv(kSeedVariable);
  if (!loaded) RAND_bytes(g_ticket_seed, sizeof g_ticket_seed);
}

[[maybe_unused]] bool KernelOffersTls() {
  std::ifstream ulp("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string word;
  while (ulp >> word)
    if (word == "tls") return true;
  return false;
}

Status LoadFiles(SSL_CTX* ctx, const Config& config) {
  const std::string& keyfile =
      config.keyfile.empty() ? config.certfile : config.keyfile;
  if (SSL_CTX_use_PrivateKey_file(ctx, keyfile.c_str(), SSL_FILETYPE_PEM) != 1)
    return Status::InvalidArgument("key " + keyfile + ": " + OpenSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx, config.certfile.c_str()) != 1)
    return Status::InvalidArgument("certificate " + config.certfile + ": " +
                                   OpenSslError());
  if (SSL_CTX_check_private_key(ctx) != 1)
    return Status::InvalidArgument("key " + keyfile +
                                   " does not match the certificate");
  if (config.ca_certs.empty()) return Status::Ok();
  if (SSL_CTX_load_verify_locations(ctx, config.ca_certs.c_str(), nullptr) != 1)
    return Status::InvalidArgument("--ca-certs " + config.ca_certs + ": " +
                                   OpenSslError());
  if (STACK_OF(X509_NAME)* names =
          SSL_load_client_CA_file(config.ca_certs.c_str()))
    SSL_CTX_set_client_CA_list(ctx, names);
  int mode = config.cert_reqs == "2"
                 ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
             : config.cert_reqs == "1" ? SSL_VERIFY_PEER
                                       : SSL_VERIFY_NONE;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return Status::Ok();
}

Status Configure(SSL_CTX* ctx, const Config& config) {
  bool v13 = EffectiveMinVersion(config) == TlsMinVersion::kTls13;
  SSL_CTX_set_min_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  const char* ciphers =
      config.ciphers.empty() ? kDefaultCiphers : config.ciphers.c_str();
  if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
    return Status::InvalidArgument("--ciphers '" + config.ciphers +
                                   "': " + OpenSslError());
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
               SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // No chain built from the CA store on every handshake (X509_verify_cert
  // per connection): the chain sent is the certificate file's, as nginx
  // sends it.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
  // Read what the socket has in one read(2), not a record header and then
  // its body in two: a handshake took ten reads, now three. Connection
  // counts these buffered bytes as unread (SSL_has_pending).
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  static const unsigned char kSessionContext[] = "wsgid";
  SSL_CTX_set_session_id_context(ctx, kSessionContext,
                                 sizeof kSessionContext - 1);
  // Stateless tickets only: no per-process cache a sibling could not read.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  LoadTicketSeed();
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, TicketKeyCallback);
  return LoadFiles(ctx, config);
}

}  // namespace

StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(const Config& config) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  std::unique_ptr<TlsContext> context(new TlsContext(ctx));
  if (Status s = Configure(ctx, config); !s.ok()) return s;
  bool ktls = false;
#if defined(SSL_OP_ENABLE_KTLS) && !defined(OPENSSL_NO_KTLS)
  if (KernelOffersTls()) {
    SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
    ktls = true;
  }
#endif
  Log(LogLevel::kInfo) << "TLS on (certificate " << config.certfile
                       << "); wsgi.file_wrapper over TLS: "
                       << (ktls ? "kernel TLS sendfile where the cipher allows"
                                : "buffered read loop (no kernel TLS here)");
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

void TlsContext::DiscardTicketSeed() { ::unsetenv(kSeedVariable); }

SSL* TlsContext::NewSession(int fd) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

bool TlsContext::KernelTlsSend(SSL* ssl) {
#if !defined(OPENSSL_NO_KTLS)
  return BIO_get_ktls_send(SSL_get_wbio(ssl)) != 0;
#else
  (void)ssl;
  return false;
#endif
}

}  // namespace wsgid
