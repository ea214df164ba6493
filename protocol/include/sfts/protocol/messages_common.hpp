// Messages both services use: the hellos and the two generic replies, plus the header that
// opens every file-service command.
#pragma once

#include <cstdint>
#include <string>

#include "sfts/error.hpp"
#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"

namespace sfts::proto {

class Reader;
class Writer;

// Replay protection: the server refuses a command whose timestamp is outside its window
// or whose nonce it has seen inside that window. request_id pairs a reply with a command.
struct CommandHeader {
    std::uint64_t request_id = 0;
    std::int64_t timestamp_ms = 0;  // Unix time, milliseconds
    CommandNonce nonce{};

    void write(Writer& w) const;
    static CommandHeader read(Reader& r);
    bool operator==(const CommandHeader&) const = default;
};

// Client -> server, first message of either service.
struct Hello {
    static constexpr MsgType type = MsgType::hello;
    std::uint16_t version = protocol_version;
    Service service = Service::file;

    Bytes encode() const;
    static Hello decode(ByteView body);
    bool operator==(const Hello&) const = default;
};

// Server -> client, answers Hello.
struct ServerHello {
    static constexpr MsgType type = MsgType::server_hello;
    std::uint16_t version = protocol_version;
    // File service: the client certificate's user is enrolled but has no password yet, so
    // the client must send SetInitialPassword before logging in.
    bool initial_password_required = false;

    Bytes encode() const;
    static ServerHello decode(ByteView body);
    bool operator==(const ServerHello&) const = default;
};

// Server -> client: the request succeeded and has no other reply message.
struct OkReply {
    static constexpr MsgType type = MsgType::ok_reply;
    std::uint64_t request_id = 0;
    std::string message;

    Bytes encode() const;
    static OkReply decode(ByteView body);
    bool operator==(const OkReply&) const = default;
};

// Server -> client: the request failed. status is the raw wire code (never 0), kept as sent
// so a code from a newer peer survives a decode/encode round trip; errc() interprets it.
struct ErrorReply {
    static constexpr MsgType type = MsgType::error_reply;
    std::uint64_t request_id = 0;
    std::uint16_t status = 0;
    std::string message;

    static ErrorReply make(std::uint64_t request_id, Errc kind, std::string message);
    Errc errc() const noexcept;

    Bytes encode() const;
    static ErrorReply decode(ByteView body);
    bool operator==(const ErrorReply&) const = default;
};

}  // namespace sfts::proto
