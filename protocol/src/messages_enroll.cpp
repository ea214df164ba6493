#include "sfts/protocol/messages_enroll.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

// The token id is present exactly when a token keys the HMAC; anything else would let two
// encodings mean the same request.
void check_token_id(SecretKind kind, std::string_view token_id, Errc malformed) {
    if (kind == SecretKind::site_secret && !token_id.empty()) {
        fail(malformed, "enroll start: token id given with the site secret");
    }
    if (kind == SecretKind::enrollment_token && token_id.empty()) {
        fail(malformed, "enroll start: enrollment token without a token id");
    }
}

}  // namespace

Bytes EnrollStart::encode() const {
    check_token_id(secret_kind, token_id, Errc::invalid_argument);
    Writer w;
    w.u8(static_cast<std::uint8_t>(secret_kind));
    if (token_id.empty()) {
        w.u32(0);
    } else {
        w.string(token_id, max_token_id_bytes, TextRule::name, "token id");
    }
    fields::put_user(w, user);
    w.fixed(client_nonce);
    return std::move(w).take();
}

EnrollStart EnrollStart::decode(ByteView body) {
    Reader r(body);
    EnrollStart m;
    const std::uint8_t kind = r.u8();
    if (kind != static_cast<std::uint8_t>(SecretKind::site_secret) &&
        kind != static_cast<std::uint8_t>(SecretKind::enrollment_token)) {
        fail(Errc::protocol, "enroll start: unknown secret kind");
    }
    m.secret_kind = static_cast<SecretKind>(kind);
    const std::string_view token_id = r.string(max_token_id_bytes, TextRule::text, "token id");
    if (!token_id.empty()) {
        check_text(token_id, max_token_id_bytes, TextRule::name, "token id", Errc::protocol);
    }
    check_token_id(m.secret_kind, token_id, Errc::protocol);
    m.token_id = std::string(token_id);
    m.user = fields::get_user(r);
    m.client_nonce = r.fixed<enroll_nonce_size>();
    r.expect_end();
    return m;
}

Bytes EnrollChallenge::encode() const {
    Writer w;
    w.fixed(server_nonce);
    return std::move(w).take();
}

EnrollChallenge EnrollChallenge::decode(ByteView body) {
    Reader r(body);
    EnrollChallenge m;
    m.server_nonce = r.fixed<enroll_nonce_size>();
    r.expect_end();
    return m;
}

Bytes EnrollCsr::encode() const {
    Writer w;
    w.nonempty_bytes(csr_der, max_cert_bytes, "csr");
    w.fixed(client_proof);
    return std::move(w).take();
}

EnrollCsr EnrollCsr::decode(ByteView body) {
    Reader r(body);
    EnrollCsr m;
    m.csr_der = fields::to_bytes(r.nonempty_bytes(max_cert_bytes, "csr"));
    m.client_proof = r.fixed<hmac_size>();
    r.expect_end();
    return m;
}

Bytes EnrollResult::encode() const {
    Writer w;
    w.nonempty_bytes(ca_cert_der, max_cert_bytes, "ca certificate");
    w.nonempty_bytes(cert_der, max_cert_bytes, "certificate");
    w.fixed(server_proof);
    return std::move(w).take();
}

EnrollResult EnrollResult::decode(ByteView body) {
    Reader r(body);
    EnrollResult m;
    m.ca_cert_der = fields::to_bytes(r.nonempty_bytes(max_cert_bytes, "ca certificate"));
    m.cert_der = fields::to_bytes(r.nonempty_bytes(max_cert_bytes, "certificate"));
    m.server_proof = r.fixed<hmac_size>();
    r.expect_end();
    return m;
}

Bytes EnrollConfirm::encode() const {
    Writer w;
    w.fixed(confirm_proof);
    return std::move(w).take();
}

EnrollConfirm EnrollConfirm::decode(ByteView body) {
    Reader r(body);
    EnrollConfirm m;
    m.confirm_proof = r.fixed<hmac_size>();
    r.expect_end();
    return m;
}

}  // namespace sfts::proto
