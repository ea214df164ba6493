// Certificate lifetime on the client: status, expiry warning, renewal over the file service
// (docs/protocol.md 4.6) and installing a certificate the operator re-signed.
#include "renew.hpp"

#include <sstream>

#include "connect.hpp"
#include "log.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/pki/x509.hpp"

namespace sfts::client {

namespace {

std::string date(std::time_t t) { return pki::utc_string(t); }

std::string days_text(std::int64_t seconds) {
    if (seconds < 0) return "expired";
    std::int64_t days = seconds / 86400;
    return days == 1 ? "1 day left" : std::to_string(days) + " days left";
}

bool same_key(EVP_PKEY* a, EVP_PKEY* b) { return EVP_PKEY_eq(a, b) == 1; }

// The new certificate must be ours (our name, the key we hold: its public half read from the
// token) and chain to our CA.
void check_issued(const ClientConfig& cfg, X509* cert, EVP_PKEY* key, const std::string& user) {
    ossl::EvpPkeyPtr pub(X509_get_pubkey(cert));
    if (!pub || !same_key(pub.get(), key)) fail(Errc::integrity, "the new certificate is not for the key in the token");
    if (ossl::common_name(X509_get_subject_name(cert)) != user)
        fail(Errc::integrity, "the new certificate names another user");
    auto ca = ossl::x509_from_pem(read_file(cfg.ca_path()));
    pki::verify_certificate(cert, ca.get());
}

// Moves the token over to the renewed key: old objects out, the new key under the configured
// label, the certificate beside it. Called only after DIR/client.crt holds the new certificate.
void switch_token(const ClientConfig& cfg, hsm::Session& s, X509* cert, const std::string& staging) {
    s.destroy_objects(cfg.key_label);
    s.relabel(staging, cfg.key_label);
    auto key = s.find_key(cfg.key_label);
    if (!key) fail(Errc::token, "the renewed key vanished from the token");
    s.store_certificate(cert, cfg.key_label, key->id, true);
}

// Undoes a renewal key unless the renewal got far enough to need it.
struct StagingKey {
    const hsm::Token& token;
    const Secret& pin;
    std::string label;
    bool keep = false;
    ~StagingKey() {
        if (keep) return;
        try {
            token.open(true, &pin).destroy_objects(label);
        } catch (...) {  // the next renewal or connect removes it
        }
    }
};

}  // namespace

void finish_interrupted(const ClientConfig& cfg, const Secret& pin, const std::string& staging);

std::string renewal_label(const ClientConfig& cfg) { return cfg.key_label.substr(0, 58) + ".renew"; }

CertificateStatus certificate_status(const ClientConfig& cfg) {
    if (!file_exists(cfg.cert_path())) fail(Errc::not_found, "not enrolled: no " + cfg.cert_path() + " (run 'sfts enroll')");
    auto cert = ossl::x509_from_pem(read_file(cfg.cert_path()));
    CertificateStatus st;
    st.subject = ossl::common_name(X509_get_subject_name(cert.get()));
    st.issuer = ossl::common_name(X509_get_issuer_name(cert.get()));
    st.serial = ossl::serial_hex(cert.get());
    st.not_before = pki::to_time_t(X509_get0_notBefore(cert.get()));
    st.not_after = pki::to_time_t(X509_get0_notAfter(cert.get()));
    st.seconds_left = static_cast<std::int64_t>(st.not_after) - static_cast<std::int64_t>(std::time(nullptr));
    st.sha256 = ossl::hex(pki::fingerprint(cert.get()));
    st.expiring = st.seconds_left < 0 || (cfg.warn_days > 0 && st.seconds_left < std::int64_t{cfg.warn_days} * 86400);
    return st;
}

std::optional<std::string> expiry_warning(const ClientConfig& cfg) {
    if (!file_exists(cfg.cert_path())) return std::nullopt;
    auto st = certificate_status(cfg);
    if (!st.expiring) return std::nullopt;
    std::string text = st.seconds_left < 0
                           ? "your certificate " + st.serial + " expired on " + date(st.not_after) +
                                 ": ask your administrator for a one-time enrollment token"
                           : "your certificate " + st.serial + " expires on " + date(st.not_after) + " (" +
                                 days_text(st.seconds_left) + "): run 'sfts renew'";
    client_log(cfg).warning(text);
    return text;
}

void finish_interrupted_renewal(const ClientConfig& cfg, const Secret& pin) {
    // An enrollment stages its new key the same way and is finished the same way.
    finish_interrupted(cfg, pin, renewal_label(cfg));
    finish_interrupted(cfg, pin, enrollment_label(cfg));
}

void finish_interrupted(const ClientConfig& cfg, const Secret& pin, const std::string& staging) {
    auto& provider = hsm::KeyProvider::for_module(cfg.module);
    hsm::Token token(provider.module(), cfg.token);
    {
        auto s = token.open(false, &pin);
        if (!s.find_key(staging)) return;
    }
    auto s = token.open(true, &pin);
    auto key = s.find_key(staging);
    auto pub = s.public_key(*key);
    ossl::X509Ptr cert;
    if (file_exists(cfg.cert_path())) cert = ossl::x509_from_pem(read_file(cfg.cert_path()));
    ossl::EvpPkeyPtr cert_key(cert ? X509_get_pubkey(cert.get()) : nullptr);
    if (cert_key && same_key(cert_key.get(), pub.get())) {
        switch_token(cfg, s, cert.get(), staging);
        client_log(cfg).notice("finished an interrupted renewal or enrollment: key '" + cfg.key_label + "' is now the new key, certificate " +
                               ossl::serial_hex(cert.get()));
    } else {
        s.destroy_objects(staging);
        client_log(cfg).notice("removed the key of a renewal or enrollment that did not complete (" + staging + ")");
    }
}

Renewed Session::renew(const Secret& pin) {
    return logged(client_log(config()), "renew certificate " + ossl::serial_hex(certificate()),
                  [&] { return renew_once(pin); });
}

Renewed Session::renew_once(const Secret& pin) {
    const ClientConfig& cfg = config();
    std::string user = ossl::common_name(X509_get_subject_name(certificate()));
    std::string old_serial = ossl::serial_hex(certificate());
    auto& provider = hsm::KeyProvider::for_module(cfg.module);
    hsm::Token token(provider.module(), cfg.token);
    std::string staging = renewal_label(cfg);

    // A new key pair, made inside the token like at enrollment (sensitive, non-extractable).
    StagingKey guard{token, pin, staging};
    hsm::KeyHandle fresh;
    ossl::EvpPkeyPtr fresh_pub;
    {
        auto s = token.open(true, &pin);
        s.destroy_objects(staging);  // left over from an attempt that failed
        fresh = s.generate_rsa(staging, 3072);
        fresh_pub = s.public_key(fresh);
    }
    auto key = provider.private_key(cfg.token.with_object(staging, fresh.id), pin);
    auto csr = pki::make_csr(key.get(), user);
    int n = i2d_X509_REQ(csr.get(), nullptr);
    if (n <= 0) ossl::fail_ossl(Errc::crypto, "i2d_X509_REQ");
    proto::RenewRequest req;
    req.header = next_header();
    req.csr_der.resize(static_cast<std::size_t>(n));
    unsigned char* p = req.csr_der.data();
    i2d_X509_REQ(csr.get(), &p);

    // A refusal throws here: the guard removes the new key, the old key and certificate stay.
    auto result = expect_reply<proto::RenewResult>(exchange(req));
    auto cert = ossl::x509_from_der(result.cert_der.data(), result.cert_der.size());
    check_issued(cfg, cert.get(), fresh_pub.get(), user);

    // From here on the new key is needed: client.crt first (what connect reads), then the token.
    guard.keep = true;
    write_file_atomic(cfg.cert_path(), ossl::to_pem(cert.get()), 0644);
    try {
        close();  // the server has revoked the certificate this connection was made with
    } catch (const Error&) {
    }
    {
        auto s = token.open(true, &pin);
        switch_token(cfg, s, cert.get(), staging);
    }
    std::time_t not_after = pki::to_time_t(X509_get0_notAfter(cert.get()));
    std::ostringstream o;
    o << "renewed '" << user << "': certificate " << ossl::serial_hex(cert.get()) << " valid until " << date(not_after)
      << " (new RSA-3072 key '" << cfg.key_label << "' in token '" << token.label() << "')\n"
      << "  old certificate " << old_serial << " is revoked\n"
      << "  certificate  " << cfg.cert_path() << "\n";
    return {std::move(cert), old_serial, o.str()};
}

Renewed install_certificate(const ClientConfig& cfg, const Secret& pin, const std::string& pem_path) {
    return logged(client_log(cfg), "install certificate from " + pem_path, [&]() -> Renewed {
        auto cert = ossl::x509_from_pem(read_file(pem_path, 64 * 1024));
        std::string user = cfg.user;
        std::string old_serial;
        if (file_exists(cfg.cert_path())) {
            auto current = ossl::x509_from_pem(read_file(cfg.cert_path()));
            user = ossl::common_name(X509_get_subject_name(current.get()));
            old_serial = ossl::serial_hex(current.get());
        }
        if (user.empty()) fail(Errc::invalid_argument, "no current certificate and no user name configured");
        if (!file_exists(cfg.ca_path())) fail(Errc::not_found, "not enrolled: no " + cfg.ca_path());
        auto& provider = hsm::KeyProvider::for_module(cfg.module);
        hsm::Token token(provider.module(), cfg.token);
        auto s = token.open(true, &pin);
        auto key = s.find_key(cfg.key_label);
        if (!key) fail(Errc::not_found, "no key '" + cfg.key_label + "' in token '" + token.label() + "'");
        auto pub = s.public_key(*key);
        check_issued(cfg, cert.get(), pub.get(), user);
        if (pki::to_time_t(X509_get0_notAfter(cert.get())) <= std::time(nullptr)) fail(Errc::invalid_argument, "this certificate has expired");
        write_file_atomic(cfg.cert_path(), ossl::to_pem(cert.get()), 0644);
        s.store_certificate(cert.get(), cfg.key_label, key->id, true);
        std::ostringstream o;
        o << "installed certificate " << ossl::serial_hex(cert.get()) << " for '" << user << "', valid until "
          << date(pki::to_time_t(X509_get0_notAfter(cert.get()))) << " (key '" << cfg.key_label << "')\n";
        return {std::move(cert), old_serial, o.str()};
    });
}

}  // namespace sfts::client
