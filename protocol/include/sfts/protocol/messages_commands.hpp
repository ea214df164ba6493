// File-service commands other than transfers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"
#include "sfts/protocol/messages_common.hpp"
#include "sfts/secret.hpp"

namespace sfts::proto {

// Client -> server: one page of the listing, starting after cursor (empty: from the start).
struct ListRequest {
    static constexpr MsgType type = MsgType::list_request;
    CommandHeader header;
    std::string cursor;

    Bytes encode() const;
    static ListRequest decode(ByteView body);
    bool operator==(const ListRequest&) const = default;
};

struct ListEntry {
    std::string name;
    std::uint64_t size = 0;
    std::int64_t mtime_ms = 0;
    Sha256 sha256{};
    std::string uploader;
    bool operator==(const ListEntry&) const = default;
};

// Server -> client. next_cursor is empty on the last page; otherwise the client sends
// another ListRequest with it. One request, one page: the state machine stays type-driven.
struct ListPage {
    static constexpr MsgType type = MsgType::list_page;
    std::uint64_t request_id = 0;
    std::vector<ListEntry> entries;
    std::string next_cursor;

    Bytes encode() const;
    static ListPage decode(ByteView body);
    bool operator==(const ListPage&) const = default;
};

struct DeleteRequest {
    static constexpr MsgType type = MsgType::delete_request;
    CommandHeader header;
    std::string filename;

    Bytes encode() const;
    static DeleteRequest decode(ByteView body);
    bool operator==(const DeleteRequest&) const = default;
};

// Change password. old_proof shows knowledge of the old password without sending it:
// ClientKey XOR HMAC(StoredKey, update_password_record()), the SCRAM ClientProof
// construction (RFC 5802 section 3) over our own record. The new password travels inside
// TLS so the server can salt and hash it.
struct UpdatePassword {
    static constexpr MsgType type = MsgType::update_password;
    CommandHeader header;
    Hmac old_proof{};
    Secret new_password;

    Bytes encode() const;
    static UpdatePassword decode(ByteView body);
    bool operator==(const UpdatePassword& o) const {
        return header == o.header && old_proof == o.old_proof &&
               new_password.view() == o.new_password.view();
    }
};

struct HelpRequest {
    static constexpr MsgType type = MsgType::help_request;
    CommandHeader header;

    Bytes encode() const;
    static HelpRequest decode(ByteView body);
    bool operator==(const HelpRequest&) const = default;
};

// The commands the caller's role allows.
struct HelpReply {
    static constexpr MsgType type = MsgType::help_reply;
    std::uint64_t request_id = 0;
    std::vector<std::string> commands;

    Bytes encode() const;
    static HelpReply decode(ByteView body);
    bool operator==(const HelpReply&) const = default;
};

// Answered by OkReply, after which the server closes.
struct ExitRequest {
    static constexpr MsgType type = MsgType::exit_request;
    CommandHeader header;

    Bytes encode() const;
    static ExitRequest decode(ByteView body);
    bool operator==(const ExitRequest&) const = default;
};

}  // namespace sfts::proto
