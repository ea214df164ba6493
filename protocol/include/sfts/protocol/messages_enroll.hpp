// Enrollment service (TCP 8444, TLS server-auth only). The client proves knowledge of an
// enrollment secret with an HMAC over the transcript (transcript.hpp); the server proves
// the same secret and binds its TLS certificate, so a TLS interceptor learns nothing usable.
#pragma once

#include <cstdint>
#include <string>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"

namespace sfts::proto {

// Which secret keys the HMAC.
enum class SecretKind : std::uint8_t {
    site_secret = 1,       // the site-wide enrollment secret; token_id is empty
    enrollment_token = 2,  // a per-user one-time token, named by token_id
};

// Client -> server.
struct EnrollStart {
    static constexpr MsgType type = MsgType::enroll_start;
    SecretKind secret_kind = SecretKind::site_secret;
    std::string token_id;
    std::string user;
    EnrollNonce client_nonce{};

    Bytes encode() const;
    static EnrollStart decode(ByteView body);
    bool operator==(const EnrollStart&) const = default;
};

// Server -> client.
struct EnrollChallenge {
    static constexpr MsgType type = MsgType::enroll_challenge;
    EnrollNonce server_nonce{};

    Bytes encode() const;
    static EnrollChallenge decode(ByteView body);
    bool operator==(const EnrollChallenge&) const = default;
};

// Client -> server: the CSR signed by the token's key, and the client's HMAC proof.
struct EnrollCsr {
    static constexpr MsgType type = MsgType::enroll_csr;
    Bytes csr_der;
    Hmac client_proof{};

    Bytes encode() const;
    static EnrollCsr decode(ByteView body);
    bool operator==(const EnrollCsr&) const = default;
};

// Server -> client: the issued certificate, the CA that issued it, and the server's proof.
struct EnrollResult {
    static constexpr MsgType type = MsgType::enroll_result;
    Bytes ca_cert_der;
    Bytes cert_der;
    Hmac server_proof{};

    Bytes encode() const;
    static EnrollResult decode(ByteView body);
    bool operator==(const EnrollResult&) const = default;
};

// Client -> server, after it verified server_proof and the certificates: nothing is final on
// the server (account, one-time token, certificate) until this arrives with a valid proof.
struct EnrollConfirm {
    static constexpr MsgType type = MsgType::enroll_confirm;
    Hmac confirm_proof{};

    Bytes encode() const;
    static EnrollConfirm decode(ByteView body);
    bool operator==(const EnrollConfirm&) const = default;
};

}  // namespace sfts::proto
