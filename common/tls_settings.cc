#include "common/tls_settings.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/listener.h"

namespace wsgid {
namespace {

// Gunicorn's ssl_version values (Python's ssl.PROTOCOL_* names and numbers)
// and the minimum each one means here: everything older than 1.2 is 1.2.
struct SslVersionName {
  const char* name;
  const char* number;
  TlsMinVersion min;
};
constexpr SslVersionName kSslVersions[] = {
    {"SSLv23", "2", TlsMinVersion::kTls12},
    {"TLS", "2", TlsMinVersion::kTls12},
    {"TLSv1", "3", TlsMinVersion::kTls12},
    {"TLSv1_1", "4", TlsMinVersion::kTls12},
    {"TLSv1_2", "5", TlsMinVersion::kTls12},
    {"TLS_SERVER", "17", TlsMinVersion::kTls12},
    {"TLSv1_3", "", TlsMinVersion::kTls13},
};

const SslVersionName* FindSslVersion(const std::string& value) {
  std::string name = value;
  if (name.rfind("PROTOCOL_", 0) == 0) name = name.substr(9);
  for (const SslVersionName& v : kSslVersions)
    if (name == v.name || (*v.number != '\0' && name == v.number)) return &v;
  return nullptr;
}

// "Other users" is the permission class: group read stays allowed (Debian's
// ssl-cert group reads keys that way).
Status CheckKeyFileMode(const std::string& keyfile, const std::string& what) {
  struct stat st;
  if (::stat(keyfile.c_str(), &st) != 0)
    return Status::InvalidArgument(what + " key file " + keyfile + ": " +
                                   std::strerror(errno));
  if ((st.st_mode & S_IROTH) != 0)
    return Status::InvalidArgument(
        what + " key file " + keyfile + " is readable by other users (mode " +
        std::to_string((st.st_mode >> 6) & 7) +
        std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
        "); chmod o-r it");
  return Status::Ok();
}

Status CheckCaFile(const std::string& ca_certs) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_certs.c_str(), nullptr) != 1)
    return Status::InvalidArgument("--ca-certs " + ca_certs +
                                   ": cannot load: " + OpenSslError());
  return Status::Ok();
}

Status CheckBindSchemes(const Config& config) {
  for (const std::string& bind : config.binds) {
    auto address = ParseBindAddress(bind);
    if (!address.ok()) continue;  // reported where the binds are opened
    if (address->scheme == BindAddress::Scheme::kHttps && !TlsEnabled(config))
      return Status::InvalidArgument("bind " + bind + " needs --certfile");
  }
  return Status::Ok();
}

}  // namespace

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  unsigned long last = code;
  while (code != 0) {
    last = code;
    code = ERR_get_error();
  }
  if (last == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(last, text, sizeof text);
  return text;
}

StatusOr<std::string> CheckSslMinVersion(const std::string& value) {
  if (value == "TLSv1.2" || value == "TLSv1.3") return value;
  return Status::InvalidArgument("'" + value +
                                 "' is not TLSv1.2 or TLSv1.3 (1.0 and 1.1 "
                                 "are never offered)");
}

StatusOr<std::string> CheckSslVersion(const std::string& value) {
  if (FindSslVersion(value) != nullptr) return value;
  return Status::InvalidArgument(
      "'" + value +
      "' is not one of Gunicorn's ssl_version values (TLS_SERVER, "
      "TLSv1_2, TLSv1_3, TLSv1, TLSv1_1, SSLv23, TLS or 2, 3, 4, 5, 17)");
}

StatusOr<std::string> CheckCertReqs(const std::string& value) {
  if (value == "0" || value == "1" || value == "2") return value;
  return Status::InvalidArgument("'" + value +
                                 "' is not 0 (none), 1 (optional) or 2 "
                                 "(required)");
}

TlsMinVersion EffectiveMinVersion(const Config& config) {
  if (config.ssl_min_version == "TLSv1.3") return TlsMinVersion::kTls13;
  const SslVersionName* v = FindSslVersion(config.ssl_version);
  return v != nullptr ? v->min : TlsMinVersion::kTls12;
}

std::vector<std::string> TlsSettingWarnings(const Config& config) {
  std::vector<std::string> warnings;
  if (!config.ssl_version.empty()) {
    bool v13 = EffectiveMinVersion(config) == TlsMinVersion::kTls13;
    warnings.push_back("--ssl-version " + config.ssl_version +
                       " (Gunicorn's, deprecated there too) is read as "
                       "--ssl-min-version " +
                       (v13 ? "TLSv1.3" : "TLSv1.2") +
                       ": TLS 1.0 and 1.1 are never offered");
  }
  if (config.do_handshake_on_connect)
    warnings.push_back(
        "--do-handshake-on-connect: accepted; wsgid always completes the "
        "handshake in its event loop before reading a request");
  if (config.suppress_ragged_eofs == "false")
    warnings.push_back(
        "suppress_ragged_eofs = false: ignored; a peer that closes without "
        "close_notify ends its connection like any EOF");
  return warnings;
}

Status CheckCertificatePair(const std::string& certfile,
                            const std::string& keyfile,
                            const std::string& what) {
  if (Status s = CheckKeyFileMode(keyfile, what); !s.ok()) return s;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  // The key first: a certificate set after it that does not match drops it,
  // which SSL_CTX_check_private_key then reports as a mismatch.
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), keyfile.c_str(),
                                  SSL_FILETYPE_PEM) != 1)
    return Status::InvalidArgument(what + " key " + keyfile +
                                   ": cannot load: " + OpenSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certfile.c_str()) != 1)
    return Status::InvalidArgument(what + " certificate " + certfile +
                                   ": cannot load: " + OpenSslError());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return Status::InvalidArgument(what + " key " + keyfile +
                                   " does not match the certificate " +
                                   certfile);
  return Status::Ok();
}

Status CheckTlsSettings(const Config& config) {
  if (Status s = CheckBindSchemes(config); !s.ok()) return s;
  if (config.control_certfile.empty() != config.control_keyfile.empty())
    return Status::InvalidArgument(
        "--control-certfile and --control-keyfile go together");
  if (!config.control_certfile.empty()) {
    if (Status s = CheckCertificatePair(config.control_certfile,
                                        config.control_keyfile, "control");
        !s.ok())
      return s;
  }
  if (!TlsEnabled(config)) {
    if (!config.keyfile.empty())
      return Status::InvalidArgument("--keyfile needs --certfile");
    return Status::Ok();
  }
  // Gunicorn allows the key inside the certificate file.
  const std::string& keyfile =
      config.keyfile.empty() ? config.certfile : config.keyfile;
  if (Status s = CheckCertificatePair(config.certfile, keyfile, "TLS"); !s.ok())
    return s;
  if (config.cert_reqs != "0" && config.ca_certs.empty())
    return Status::InvalidArgument("--cert-reqs " + config.cert_reqs +
                                   " needs --ca-certs to verify clients with");
  if (!config.ca_certs.empty()) return CheckCaFile(config.ca_certs);
  return Status::Ok();
}

}  // namespace wsgid
