// Batch uploads: many small files in one command, signed once over a manifest (docs/protocol.md
// 4.4.1). The files follow batch_begin's ok_reply without a reply each, so a batch costs one
// round trip for the go-ahead and one for the receipt however many files it carries.
#pragma once

#include <cstdint>
#include <string>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"
#include "sfts/protocol/messages_common.hpp"

namespace sfts::proto {

// Client -> server. count is 1..max_batch_files; OkReply means "send the files".
struct BatchBegin {
    static constexpr MsgType type = MsgType::batch_begin;
    CommandHeader header;
    std::uint32_t count = 0;
    bool overwrite = false;

    Bytes encode() const;
    static BatchBegin decode(ByteView body);
    bool operator==(const BatchBegin&) const = default;
};

// One whole file: its name, then its data (0..max_batch_file_bytes, delimited by the frame).
struct BatchFile {
    static constexpr MsgType type = MsgType::batch_file;
    std::string filename;
    Bytes data;

    Bytes encode() const;
    static BatchFile decode(ByteView body);
    bool operator==(const BatchFile&) const = default;
};

// Client -> server after the last file: RSA-PSS by the user's token key over batch_record().
struct BatchEnd {
    static constexpr MsgType type = MsgType::batch_end;
    Bytes signature;

    Bytes encode() const;
    static BatchEnd decode(ByteView body);
    bool operator==(const BatchEnd&) const = default;
};

// Server -> client: every file of the batch is stored. server_signature covers
// batch_receipt_record(), which binds the client's batch signature.
struct BatchReceipt {
    static constexpr MsgType type = MsgType::batch_receipt;
    std::uint64_t request_id = 0;
    std::uint32_t count = 0;
    std::int64_t stored_at_ms = 0;
    Bytes server_signature;

    Bytes encode() const;
    static BatchReceipt decode(ByteView body);
    bool operator==(const BatchReceipt&) const = default;
};

}  // namespace sfts::proto
