#include "tls_errors.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace sfts::net::detail {

namespace {

// The peer's certificate was rejected (by us or by the peer, reported in its alert), or the
// peer showed none, or it does not own the key. These are authentication failures, never
// something a retry fixes.
bool is_certificate_reason(int reason) {
    switch (reason) {
        case SSL_R_CERTIFICATE_VERIFY_FAILED:
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        case SSL_R_BAD_SIGNATURE:
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
            return true;
        default:
            return false;
    }
}

std::string reason_text(unsigned long code) {
    if (const char* r = ERR_reason_error_string(code)) return r;
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return buf;
}

std::string asn1_time_text(const ASN1_TIME* t) {
    std::string out;
    if (BIO* b = BIO_new(BIO_s_mem())) {
        if (ASN1_TIME_print(b, t) == 1) {
            char* data = nullptr;
            long n = BIO_get_mem_data(b, &data);
            if (n > 0) out.assign(data, static_cast<std::size_t>(n));
        }
        BIO_free(b);
    }
    return out.empty() ? "(unreadable date)" : out;
}

}  // namespace

TlsFailure classify_failure(const SSL* ssl, int ssl_error, int sys_errno) {
    std::vector<unsigned long> codes;
    while (unsigned long c = ERR_get_error()) codes.push_back(c);

    if (ssl_error == SSL_ERROR_ZERO_RETURN) return {Errc::io, "connection closed by peer"};
    if (ssl_error == SSL_ERROR_SYSCALL && codes.empty()) {
        if (sys_errno == 0) return {Errc::io, "connection closed by peer"};
        // The peer's process died or its host reset: say so, "Broken pipe" alone tells a user nothing.
        if (sys_errno == EPIPE || sys_errno == ECONNRESET)
            return {Errc::io, "connection lost (" + std::generic_category().message(sys_errno) + ")"};
        return {Errc::io, std::generic_category().message(sys_errno)};
    }

    std::string text;
    bool certificate = false, specific = false, eof = false, expired_alert = false;
    for (unsigned long c : codes) {
        if (!text.empty()) text += "; ";
        text += reason_text(c);
        if (ERR_GET_LIB(c) == ERR_LIB_SSL) {
            int r = ERR_GET_REASON(c);
            certificate = certificate || is_certificate_reason(r);
            expired_alert = expired_alert || r == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED;
            eof = eof || r == SSL_R_UNEXPECTED_EOF_WHILE_READING;
            // Only ERR_R_* reasons (EVP, internal, malloc) inside libssl mean our side broke,
            // e.g. the token refused to sign: that is a crypto failure, not the peer's fault.
            specific = specific || (ERR_GET_RFLAGS(c) & ERR_RFLAG_COMMON) == 0;
        }
    }
    // Only when we verify: with SSL_VERIFY_NONE (enrollment) OpenSSL still records why the
    // chain would have failed, which says nothing about this error.
    const long verify = SSL_get_verify_result(ssl);
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) && verify != X509_V_OK) {
        certificate = true;
        const std::string why = X509_verify_cert_error_string(verify);
        text = text.empty() ? why : text + " (" + why + ")";
    }
    if (text.empty()) text = "TLS failure";

    // The server refused our certificate as expired. OpenSSL sends the same alert when the
    // server's own CRL is past its nextUpdate, so say which it is when we can tell.
    if (!SSL_is_server(ssl) && expired_alert) {
        const X509* own = SSL_get_certificate(ssl);
        if (own && X509_cmp_current_time(X509_get0_notAfter(own)) > 0)
            text += ": the server refused our certificate as expired, but it is valid until " +
                    asn1_time_text(X509_get0_notAfter(own)) +
                    " here; most likely the server's certificate revocation list (CRL) has expired (the "
                    "server could not re-sign it: its administrator should check the server log and "
                    "'sfts-admin cert list'), or the server's or this machine's clock is wrong";
        else if (own)
            text += ": our certificate expired on " + asn1_time_text(X509_get0_notAfter(own)) +
                    "; ask the administrator for a renewed certificate ('sfts-admin cert renew') or a new "
                    "enrollment token";
    }

    if (certificate) return {Errc::auth_failed, text};
    // RFC 8446 6.1: an EOF without close_notify may be a truncation attack; never a clean end.
    if (eof) return {Errc::io, "connection closed (" + text + ")"};
    if (ssl_error == SSL_ERROR_SYSCALL) return {Errc::io, text};
    // Version, cipher, group or record-layer violations: the peer does not speak our policy.
    if (specific) return {Errc::protocol, text};
    return {Errc::crypto, text};
}

}  // namespace sfts::net::detail
