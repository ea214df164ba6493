// Enrollment, client side (docs/protocol.md section 8). Nothing is stored until the server's
// HMAC proof over the transcript, the certificates and the TLS certificate we saw checks out.
#include <sstream>
#include <variant>

#include "connect.hpp"
#include "log.hpp"
#include "renew.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/protocol/transcript.hpp"

namespace sfts::client {

namespace {

// Removes the key made for an enrollment unless the enrollment got far enough to keep it.
struct FreshKey {
    const hsm::Token& token;
    const Secret& pin;
    std::string label;
    bool keep = false;
    ~FreshKey() {
        if (keep || label.empty()) return;
        try {
            token.open(true, &pin).destroy_objects(label);
        } catch (...) {  // the next enrollment or renewal removes it
        }
    }
};

}  // namespace

std::string enrollment_label(const ClientConfig& cfg) { return cfg.key_label.substr(0, 57) + ".enroll"; }

Enrolled enroll_once(const ClientConfig& cfg, const Secret& pin, const EnrollRequest& req);

Enrolled enroll(const ClientConfig& cfg, const Secret& pin, const EnrollRequest& req) {
    return logged(client_log(cfg),
                  "enroll '" + cfg.user + "' at " + cfg.host + ":" + std::to_string(cfg.enroll_port) +
                      (req.kind == proto::SecretKind::site_secret ? " with the site secret" : " with a one-time token") +
                      (req.reuse_key ? ", reusing the existing key" : ", new key"),
                  [&] { return enroll_once(cfg, pin, req); });
}

Enrolled enroll_once(const ClientConfig& cfg, const Secret& pin, const EnrollRequest& req) {
    if (!pki::valid_username(cfg.user))
        fail(Errc::invalid_argument, "user name must be 1-64 of a-z 0-9 . _ - starting with a letter or digit");
    if (req.secret.empty()) fail(Errc::invalid_argument, "empty enrollment secret");

    // By default a new key pair is made inside the token. If a key already has the configured
    // label, the new one is made under a staging label: the old key stays as it is until the new
    // certificate is confirmed and stored, and then goes, so the token never holds two keys under
    // one label. (With no key there yet it is made under the configured label at once: libp11
    // keeps the label it first saw for a key, so a process that enrolls and then connects, like
    // sfts-tui, must find it under that label.) --reuse-key certifies the key already there (the
    // server refuses a key whose certificate was revoked).
    auto& provider = hsm::KeyProvider::for_module(cfg.module);
    hsm::Token token(provider.module(), cfg.token);
    bool replacing = false;
    if (!req.reuse_key) replacing = token.open(false, &pin).find_key(cfg.key_label).has_value();
    const std::string staging = replacing ? enrollment_label(cfg) : cfg.key_label;
    FreshKey fresh{token, pin, req.reuse_key ? std::string() : staging};
    ossl::EvpPkeyPtr key;
    if (req.reuse_key) {
        {
            auto session = token.open(false, &pin);
            if (!session.find_key(cfg.key_label))
                fail(Errc::not_found, "--reuse-key: there is no key '" + cfg.key_label + "' in token '" + token.label() +
                                          "' to reuse");
        }
        key = provider.private_key(cfg.token.with_object(cfg.key_label), pin);
    } else {
        hsm::KeyHandle made;
        {
            auto session = token.open(true, &pin);
            if (replacing) session.destroy_objects(staging);  // left over from an attempt that failed
            made = session.generate_rsa(staging, 3072);
        }
        key = provider.private_key(cfg.token.with_object(staging, made.id), pin);
    }
    auto csr = pki::make_csr(key.get(), cfg.user);
    int n = i2d_X509_REQ(csr.get(), nullptr);
    if (n <= 0) ossl::fail_ossl(Errc::crypto, "i2d_X509_REQ");
    proto::Bytes csr_der(static_cast<std::size_t>(n));
    unsigned char* p = csr_der.data();
    i2d_X509_REQ(csr.get(), &p);

    // No CA yet: the TLS certificate is taken as seen and authenticated below by the proof.
    net::ClientTlsOptions topts;
    topts.server_name = cfg.host;
    auto ch = open_channel(cfg, cfg.enroll_port, net::TlsContext::client(topts), proto::Service::enroll);
    auto server_tls_cert = ch->tls().peer_certificate();
    if (!server_tls_cert) fail(Errc::protocol, "the server sent no certificate");
    auto tls_fp_v = pki::fingerprint(server_tls_cert.get());
    proto::Sha256 tls_fp{};
    std::copy(tls_fp_v.begin(), tls_fp_v.end(), tls_fp.begin());

    auto hello = expect_reply<proto::ServerHello>(ch->receive(step_deadline(cfg)));
    if (hello.version != proto::protocol_version) fail(Errc::protocol, "server speaks another protocol version");
    proto::EnrollStart start;
    start.secret_kind = req.kind;
    start.token_id = req.token_id;
    start.user = cfg.user;
    auto cn = auth::random_bytes(start.client_nonce.size());
    std::copy(cn.begin(), cn.end(), start.client_nonce.begin());
    ch->send(start, step_deadline(cfg));
    auto challenge = expect_reply<proto::EnrollChallenge>(ch->receive(step_deadline(cfg)));

    proto::EnrollCsr csr_msg;
    csr_msg.csr_der = csr_der;
    csr_msg.client_proof = auth::hmac_sha256(req.secret.bytes(), proto::enroll_client_transcript(start, challenge, csr_der));
    ch->send(csr_msg, step_deadline(cfg));
    auto result = expect_reply<proto::EnrollResult>(ch->receive(step_deadline(cfg)));

    // Nothing is confirmed, stored or replaced unless the server proves the secret: a relay
    // that made us stop here leaves the server with an unconfirmed enrollment, which it undoes.
    auto expected = auth::hmac_sha256(
        req.secret.bytes(), proto::enroll_server_transcript(start, challenge, csr_msg, result.ca_cert_der, result.cert_der, tls_fp));
    if (!auth::equal_constant_time(expected, result.server_proof))
        fail(Errc::auth_failed, "the server could not prove it knows the enrollment secret: not storing its CA (possible interception)");

    auto ca = ossl::x509_from_der(result.ca_cert_der.data(), result.ca_cert_der.size());
    auto cert = ossl::x509_from_der(result.cert_der.data(), result.cert_der.size());
    // The certificate must be ours (our key, our name) and chain to the CA that also vouches for
    // the TLS certificate we talked to.
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ossl::drain_errors();
        fail(Errc::integrity, "the issued certificate is not for the key in the token");
    }
    if (ossl::common_name(X509_get_subject_name(cert.get())) != cfg.user)
        fail(Errc::integrity, "the issued certificate names another user");
    pki::verify_certificate(cert.get(), ca.get());
    pki::verify_certificate(server_tls_cert.get(), ca.get(), {pki::Purpose::server, nullptr, {}});
    make_dirs(cfg.dir, 0700);

    // The server verified, we confirm: only now does the server make the enrollment final.
    proto::EnrollConfirm confirm;
    confirm.confirm_proof = auth::hmac_sha256(
        req.secret.bytes(), proto::enroll_confirm_transcript(start, challenge, csr_msg, result.ca_cert_der,
                                                            result.cert_der, tls_fp, result.server_proof));
    std::string unacknowledged;
    try {
        ch->send(confirm, step_deadline(cfg));
        auto m = ch->receive(step_deadline(cfg));
        if (std::holds_alternative<proto::ErrorReply>(m)) fail_reply(m);  // refused: nothing stored
        expect_reply<proto::OkReply>(std::move(m));
    } catch (const Error& e) {
        if (e.kind() != Errc::io && e.kind() != Errc::timeout) throw;
        // Sent, but the answer was lost: the server may have made it final. Storing it is never
        // worse (if it did not, the certificate is refused at login and the same secret enrolls
        // again); not storing would waste a one-time token that was used.
        unacknowledged = e.what();
    }

    fresh.keep = true;
    write_file_atomic(cfg.ca_path(), ossl::to_pem(ca.get()), 0644);
    write_file_atomic(cfg.cert_path(), ossl::to_pem(cert.get()), 0644);
    {
        auto session = token.open(true, &pin);
        if (replacing) {
            // The old key (and its certificate) make way for the new one, which takes their label.
            session.destroy_objects(cfg.key_label);
            session.relabel(staging, cfg.key_label);
        }
        auto handle = session.find_key(cfg.key_label);
        if (!handle) fail(Errc::token, "the enrolled key vanished from the token");
        session.store_certificate(cert.get(), cfg.key_label, handle->id, true);
    }
    try {
        ch->tls().close(step_deadline(cfg));
    } catch (const Error&) {  // the certificate is stored; a lost close_notify changes nothing
    }
    if (!unacknowledged.empty())
        fail(Errc::timeout, "certificate " + ossl::serial_hex(cert.get()) + " stored in " + cfg.cert_path() +
                                ", but the server's acknowledgement of the confirmation was lost (" + unacknowledged +
                                "): if the server refuses it at login, enroll again with the same secret");

    std::ostringstream o;
    o << "enrolled '" << cfg.user << "': certificate " << ossl::serial_hex(cert.get()) << " ("
      << (req.reuse_key ? "existing" : "new") << " RSA-3072 key '" << cfg.key_label << "' in token '" << token.label()
      << "')\n  certificate  " << cfg.cert_path() << "\n  CA           " << cfg.ca_path() << "  SHA-256 "
      << ossl::hex(pki::fingerprint(ca.get())) << "\n";
    return {std::move(cert), std::move(ca), o.str()};
}

}  // namespace sfts::client
