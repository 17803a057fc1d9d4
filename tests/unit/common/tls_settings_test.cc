// Unit tests for common/tls_settings.h: the version settings and their
// mapping, --cert-reqs, and the cross-setting checks that need no files
// (the file checks run in tests/integration/test_tls.py).
#include "common/tls_settings.h"

#include <gtest/gtest.h>

namespace wsgid {
namespace {

TEST(TlsSettingsTest, MinVersionNeverBelowTls12) {
  EXPECT_TRUE(CheckSslMinVersion("TLSv1.2").ok());
  EXPECT_TRUE(CheckSslMinVersion("TLSv1.3").ok());
  EXPECT_FALSE(CheckSslMinVersion("TLSv1.1").ok());
  EXPECT_FALSE(CheckSslMinVersion("TLSv1").ok());
}

TEST(TlsSettingsTest, GunicornSslVersionMapsToAMinimum) {
  Config c;
  EXPECT_EQ(EffectiveMinVersion(c), TlsMinVersion::kTls12);
  for (const char* v : {"TLSv1", "3", "TLSv1_1", "SSLv23", "TLS_SERVER", "17",
                        "PROTOCOL_TLSv1_2"}) {
    ASSERT_TRUE(CheckSslVersion(v).ok()) << v;
    c.ssl_version = v;
    EXPECT_EQ(EffectiveMinVersion(c), TlsMinVersion::kTls12) << v;
    ASSERT_EQ(TlsSettingWarnings(c).size(), 1u);
    EXPECT_NE(TlsSettingWarnings(c)[0].find("TLSv1.2"), std::string::npos);
  }
  c.ssl_version = "TLSv1_3";
  EXPECT_EQ(EffectiveMinVersion(c), TlsMinVersion::kTls13);
  EXPECT_FALSE(CheckSslVersion("SSLv3").ok());
  EXPECT_FALSE(CheckSslVersion("99").ok());
  c.ssl_version.clear();
  c.ssl_min_version = "TLSv1.3";
  EXPECT_EQ(EffectiveMinVersion(c), TlsMinVersion::kTls13);
}

TEST(TlsSettingsTest, CertReqs) {
  for (const char* ok : {"0", "1", "2"}) EXPECT_TRUE(CheckCertReqs(ok).ok());
  for (const char* bad : {"3", "", "required"})
    EXPECT_FALSE(CheckCertReqs(bad).ok());
}

TEST(TlsSettingsTest, CrossSettingChecks) {
  Config c;
  EXPECT_TRUE(CheckTlsSettings(c).ok());
  c.binds = {"https://127.0.0.1:8443"};
  EXPECT_EQ(CheckTlsSettings(c).code(), StatusCode::kInvalidArgument);
  c.binds.clear();
  c.keyfile = "/nonexistent.key";
  EXPECT_FALSE(CheckTlsSettings(c).ok());  // a key without a certificate
  c.keyfile.clear();
  c.control_certfile = "/nonexistent.pem";
  EXPECT_FALSE(CheckTlsSettings(c).ok());  // without --control-keyfile
  c.control_certfile.clear();
  c.certfile = "/nonexistent.pem";
  c.keyfile = "/nonexistent.key";
  Status s = CheckTlsSettings(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/nonexistent.key"), std::string::npos);
}

TEST(TlsSettingsTest, CompatibilitySwitchesWarn) {
  Config c;
  EXPECT_TRUE(TlsSettingWarnings(c).empty());
  c.do_handshake_on_connect = true;
  c.suppress_ragged_eofs = "false";
  EXPECT_EQ(TlsSettingWarnings(c).size(), 2u);
}

}  // namespace
}  // namespace wsgid
