// Certificates, requests and CRLs: building, validating and verifying them.
// Private keys are EVP_PKEYs from the key provider, so every signature is made in the token.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::pki {

struct CaOptions {
    std::string common_name = "sfts CA";
    std::string organization;  // optional O=
    int days = 3650;
};

struct ServerCertOptions {
    std::string common_name = "localhost";
    std::vector<std::string> dns_names = {"localhost"};
    std::vector<std::string> ip_addresses = {"127.0.0.1"};
    int days = 397;
};

struct ClientCertOptions {
    int days = 365;
};

// Usernames (the CN of every client certificate): 1 to 64 of [a-z0-9._-], starting with a
// letter or digit. Strict on purpose: the name becomes a login identity and a log field.
bool valid_username(std::string_view name);

// Self-signed CA: RSA, SHA-256, BasicConstraints CA:TRUE critical, KeyUsage keyCertSign+cRLSign
// critical, SKI, AKI. ca_key is the token key; its public half goes into the certificate.
ossl::X509Ptr make_ca_certificate(EVP_PKEY* ca_key, const CaOptions& opts);

// TLS server certificate: serverAuth, SAN from the options, CA:FALSE, digitalSignature.
ossl::X509Ptr issue_server_certificate(X509* ca_cert, EVP_PKEY* ca_key, EVP_PKEY* server_public_key,
                                       const ServerCertOptions& opts);

// A CSR signed by key (token or software), subject CN=username and nothing else.
ossl::X509ReqPtr make_csr(EVP_PKEY* key, const std::string& username);

struct CsrPolicy {
    int min_rsa_bits = 3072;
    int max_rsa_bits = 8192;
    std::size_t max_der_bytes = 16 * 1024;
};

struct ValidatedCsr {
    std::string username;
    ossl::EvpPkeyPtr public_key;
};

// Checks a CSR before anything is issued: DER size, self-signature, RSA key size, subject is
// exactly one valid CN, no attributes or extension requests. Failures are invalid_argument
// with the reason.
ValidatedCsr validate_csr(const X509_REQ* req, const CsrPolicy& policy = {});
ValidatedCsr validate_csr_der(const unsigned char* der, std::size_t len, const CsrPolicy& policy = {});

// Client certificate from a validated CSR: 128-bit random serial, CA:FALSE, digitalSignature,
// clientAuth, SKI/AKI. Only the CSR's name and key are copied, never anything else.
ossl::X509Ptr issue_client_certificate(X509* ca_cert, EVP_PKEY* ca_key, const ValidatedCsr& csr,
                                       const ClientCertOptions& opts);

struct RevokedEntry {
    std::string serial_hex;  // upper-case hex, as serial_hex() prints
    std::time_t revoked_at;
    int reason = 0;  // CRLReason code (RFC 5280 5.3.1)
};

// A v2 CRL signed by the CA key: CRL number, AKI, one entry per revoked serial.
ossl::X509CrlPtr make_crl(X509* ca_cert, EVP_PKEY* ca_key, const std::vector<RevokedEntry>& revoked,
                          std::uint64_t crl_number, int next_update_days = 7);

enum class Purpose { client, server };

struct VerifyOptions {
    Purpose purpose = Purpose::client;
    const X509_CRL* crl = nullptr;  // when given, revocation is checked and a missing CRL fails
    std::optional<std::time_t> at;  // verification time; now by default
};

// OpenSSL's verifier plus sfts's policy (leaf must not be a CA; the EKU extension must be present
// and include the purpose). Throws Error(auth_failed, reason) on any failure.
void verify_certificate(X509* leaf, X509* ca_cert, const VerifyOptions& opts = {});

// SHA-256 fingerprint of the DER certificate.
std::vector<unsigned char> fingerprint(const X509* cert);

// A point in time as certificates and listings show it: "YYYY-MM-DD HH:MM:SSZ" (UTC).
std::string utc_string(std::time_t t);

// A certificate time (notBefore, notAfter, revocation date) as seconds since the epoch; a time
// OpenSSL cannot read fails with `kind` (integrity for a certificate received, invalid_argument
// for one handed in).
std::time_t to_time_t(const ASN1_TIME* t, Errc kind = Errc::integrity);

// A 128-bit random positive serial number.
ossl::Asn1IntegerPtr random_serial();

}  // namespace sfts::pki
