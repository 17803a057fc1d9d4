// TLS settings (issue 17): what --certfile, --keyfile, --ca-certs,
// --cert-reqs, --ssl-min-version and Gunicorn's --ssl-version mean, checked
// once for the master (at start, exit 2; at reload, 409) and read by the
// worker when it builds its TLS context.
//
// CheckTlsSettings opens the files with OpenSSL the way a worker will, so a
// configuration the master accepts is one every worker can serve: an
// unreadable or mismatched key and certificate, a CA file that does not parse,
// or a key file that other users can read is refused with the reason. Key
// material is never put in a message.
//
// Thread-compatible; pure functions of the Config (plus the files).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace wsgid {

// Which TLS versions a server accepts at least. 1.0 and 1.1 never.
enum class TlsMinVersion { kTls12, kTls13 };

// --ssl-min-version: "TLSv1.2" (default) or "TLSv1.3".
StatusOr<std::string> CheckSslMinVersion(const std::string& value);
// --ssl-version (Gunicorn's): accepted as Gunicorn writes it (a name such as
// TLSv1_2, TLS_SERVER or SSLv23, or its number); checked to be one of those.
StatusOr<std::string> CheckSslVersion(const std::string& value);
// --cert-reqs: 0 none, 1 optional, 2 required (mutual TLS).
StatusOr<std::string> CheckCertReqs(const std::string& value);

// The minimum the worker enforces: --ssl-min-version, raised by --ssl-version
// when that asks for TLS 1.3 (anything older maps to TLS 1.2).
TlsMinVersion EffectiveMinVersion(const Config& config);

// Warnings about the TLS settings for the master's log at start and reload
// (Gunicorn's --ssl-version and what it was mapped to; switches accepted for
// compatibility that change nothing).
std::vector<std::string> TlsSettingWarnings(const Config& config);

// Whether TLS is on for some bind (--certfile given).
inline bool TlsEnabled(const Config& config) {
  return !config.certfile.empty();
}

// Checks every TLS and PROXY-protocol setting together: certificate and key
// readable, parsable and matching; the key file not readable by other users;
// the CA file readable; --cert-reqs 1 or 2 only with --ca-certs; an https://
// bind only with --certfile; --control-certfile with --control-keyfile.
// Errors are kInvalidArgument (exit 2 at start, 409 on reload).
Status CheckTlsSettings(const Config& config);

// Loads a certificate chain and its key pair to check them (the control port's
// pair too). REQUIRES: both paths non-empty. `what` names the pair in errors.
Status CheckCertificatePair(const std::string& certfile,
                            const std::string& keyfile,
                            const std::string& what);

// The last OpenSSL error of this thread as text (the queue cleared); never
// holds key material.
std::string OpenSslError();

}  // namespace wsgid
