// The enrollment transcripts that the HMAC-SHA256 proofs cover (docs/protocol.md,
// "Enrollment transcript"). The HMAC key is the enrollment secret named by
// EnrollStart.secret_kind / token_id; computing the HMAC is the caller's job.
#pragma once

#include <string_view>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/messages_enroll.hpp"

namespace sfts::proto {

inline constexpr std::string_view enroll_client_domain = "sfts-enroll-client-v1";
inline constexpr std::string_view enroll_server_domain = "sfts-enroll-server-v1";
inline constexpr std::string_view enroll_confirm_domain = "sfts-enroll-confirm-v1";

// What EnrollCsr.client_proof covers: every field the client sent or received before it,
// including the CSR, so the proof cannot be moved to another CSR or another session.
Bytes enroll_client_transcript(const EnrollStart& start, const EnrollChallenge& challenge,
                               ByteView csr_der);

// What EnrollResult.server_proof covers: the client transcript's fields, the client's
// proof, both certificates and the SHA-256 of the server's TLS certificate (DER) as the
// client saw it. A TLS interceptor with another certificate cannot produce this proof
// without the secret, so the client detects it even though it has no CA to trust yet.
Bytes enroll_server_transcript(const EnrollStart& start, const EnrollChallenge& challenge,
                               const EnrollCsr& csr, ByteView ca_cert_der, ByteView cert_der,
                               const Sha256& tls_cert_sha256);

// What EnrollConfirm.confirm_proof covers: the server transcript's fields and the server's
// proof, under its own domain string. Only a party that knows the secret and has seen this
// exact result can confirm it, so a relay that made the client stop cannot confirm for it.
Bytes enroll_confirm_transcript(const EnrollStart& start, const EnrollChallenge& challenge,
                                const EnrollCsr& csr, ByteView ca_cert_der, ByteView cert_der,
                                const Sha256& tls_cert_sha256, const Hmac& server_proof);

}  // namespace sfts::proto
