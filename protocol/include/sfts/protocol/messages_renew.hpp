// File service: certificate renewal. The logged-in client sends a CSR signed by a key it has
// just made in its token; the server answers with the new certificate and has revoked the
// certificate the connection was made with (docs/protocol.md 4.6).
#pragma once

#include <cstdint>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"
#include "sfts/protocol/messages_common.hpp"

namespace sfts::proto {

// Client -> server: a CSR (DER, CN = the logged-in user) signed by the new key.
struct RenewRequest {
    static constexpr MsgType type = MsgType::renew_request;
    CommandHeader header;
    Bytes csr_der;

    Bytes encode() const;
    static RenewRequest decode(ByteView body);
    bool operator==(const RenewRequest&) const = default;
};

// Server -> client: the new certificate (DER). The old one is revoked when this is sent.
struct RenewResult {
    static constexpr MsgType type = MsgType::renew_result;
    std::uint64_t request_id = 0;
    Bytes cert_der;

    Bytes encode() const;
    static RenewResult decode(ByteView body);
    bool operator==(const RenewResult&) const = default;
};

}  // namespace sfts::proto
