// File-service login. SCRAM-SHA-256(-PLUS) (RFC 5802, RFC 7677) runs inside these frames:
// the SASL messages are opaque bytes here and are parsed by the SCRAM code.
#pragma once

#include <string>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"
#include "sfts/secret.hpp"

namespace sfts::proto {

// Client -> server. mechanism is "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS".
struct ScramClientFirst {
    static constexpr MsgType type = MsgType::scram_client_first;
    std::string mechanism;
    Bytes sasl;

    Bytes encode() const;
    static ScramClientFirst decode(ByteView body);
    bool operator==(const ScramClientFirst&) const = default;
};

struct ScramServerFirst {
    static constexpr MsgType type = MsgType::scram_server_first;
    Bytes sasl;

    Bytes encode() const;
    static ScramServerFirst decode(ByteView body);
    bool operator==(const ScramServerFirst&) const = default;
};

struct ScramClientFinal {
    static constexpr MsgType type = MsgType::scram_client_final;
    Bytes sasl;

    Bytes encode() const;
    static ScramClientFinal decode(ByteView body);
    bool operator==(const ScramClientFinal&) const = default;
};

// Sent only on success (it carries the server signature "v="); a failed login is an
// ErrorReply(auth_failed) and the server closes the connection.
struct ScramServerFinal {
    static constexpr MsgType type = MsgType::scram_server_final;
    Bytes sasl;

    Bytes encode() const;
    static ScramServerFinal decode(ByteView body);
    bool operator==(const ScramServerFinal&) const = default;
};

// Client -> server, once, when ServerHello said initial_password_required: the mutual-TLS
// certificate already identifies the enrolled user. After OkReply the client logs in with
// SCRAM like any other time, so there is one path to "authenticated".
struct SetInitialPassword {
    static constexpr MsgType type = MsgType::set_initial_password;
    Secret password;

    Bytes encode() const;
    static SetInitialPassword decode(ByteView body);
    bool operator==(const SetInitialPassword& o) const { return password.view() == o.password.view(); }
};

}  // namespace sfts::proto
