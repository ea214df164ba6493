#include "sfts/protocol/transcript.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

// The fields both transcripts share, after their domain strings.
void put_core(Writer& w, const EnrollStart& start, const EnrollChallenge& challenge,
              ByteView csr_der) {
    w.u8(static_cast<std::uint8_t>(start.secret_kind));
    if (start.token_id.empty()) {
        w.u32(0);
    } else {
        w.string(start.token_id, max_token_id_bytes, TextRule::name, "token id");
    }
    fields::put_user(w, start.user);
    w.bytes(start.client_nonce, enroll_nonce_size, "client nonce");
    w.bytes(challenge.server_nonce, enroll_nonce_size, "server nonce");
    w.nonempty_bytes(csr_der, max_cert_bytes, "csr");
}

Writer start_with(std::string_view domain) {
    Writer w;
    w.string(domain, max_message_text, TextRule::name, "transcript domain");
    return w;
}

}  // namespace

Bytes enroll_client_transcript(const EnrollStart& start, const EnrollChallenge& challenge,
                               ByteView csr_der) {
    Writer w = start_with(enroll_client_domain);
    put_core(w, start, challenge, csr_der);
    return std::move(w).take();
}

namespace {

void put_result(Writer& w, const EnrollStart& start, const EnrollChallenge& challenge, const EnrollCsr& csr,
                ByteView ca_cert_der, ByteView cert_der, const Sha256& tls_cert_sha256) {
    put_core(w, start, challenge, csr.csr_der);
    w.bytes(csr.client_proof, hmac_size, "client proof");
    w.nonempty_bytes(ca_cert_der, max_cert_bytes, "ca certificate");
    w.nonempty_bytes(cert_der, max_cert_bytes, "certificate");
    w.bytes(tls_cert_sha256, sha256_size, "tls certificate sha256");
}

}  // namespace

Bytes enroll_server_transcript(const EnrollStart& start, const EnrollChallenge& challenge,
                               const EnrollCsr& csr, ByteView ca_cert_der, ByteView cert_der,
                               const Sha256& tls_cert_sha256) {
    Writer w = start_with(enroll_server_domain);
    put_result(w, start, challenge, csr, ca_cert_der, cert_der, tls_cert_sha256);
    return std::move(w).take();
}

Bytes enroll_confirm_transcript(const EnrollStart& start, const EnrollChallenge& challenge,
                                const EnrollCsr& csr, ByteView ca_cert_der, ByteView cert_der,
                                const Sha256& tls_cert_sha256, const Hmac& server_proof) {
    Writer w = start_with(enroll_confirm_domain);
    put_result(w, start, challenge, csr, ca_cert_der, cert_der, tls_cert_sha256);
    w.bytes(server_proof, hmac_size, "server proof");
    return std::move(w).take();
}

}  // namespace sfts::proto
