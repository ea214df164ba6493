// Uploads and downloads. Data moves in chunk frames between a begin/header message and an
// end message, so a transfer never needs the whole file in memory.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"
#include "sfts/protocol/messages_common.hpp"

namespace sfts::proto {

// Client -> server. OkReply means "send the chunks".
struct UploadBegin {
    static constexpr MsgType type = MsgType::upload_begin;
    CommandHeader header;
    std::string filename;
    std::uint64_t size = 0;
    bool overwrite = false;

    Bytes encode() const;
    static UploadBegin decode(ByteView body);
    bool operator==(const UploadBegin&) const = default;
};

// The body is the data itself (1..max_chunk bytes): the frame length already delimits it.
struct UploadChunk {
    static constexpr MsgType type = MsgType::upload_chunk;
    Bytes data;

    Bytes encode() const;
    static UploadChunk decode(ByteView body);
    // The same checks as decode, taking the frame body itself as the data (no copy).
    static UploadChunk take(Bytes&& body);
    bool operator==(const UploadChunk&) const = default;
};

// Client -> server after the last chunk. signature is RSA-PSS by the user's token key over
// upload_record() (records.hpp).
struct UploadEnd {
    static constexpr MsgType type = MsgType::upload_end;
    Sha256 sha256{};
    Bytes signature;

    Bytes encode() const;
    static UploadEnd decode(ByteView body);
    bool operator==(const UploadEnd&) const = default;
};

// Server -> client: the file is stored. server_signature covers receipt_record(), which
// also binds the client's own upload signature.
struct UploadReceipt {
    static constexpr MsgType type = MsgType::upload_receipt;
    std::uint64_t request_id = 0;
    std::string user;
    std::string filename;
    std::uint64_t size = 0;
    Sha256 sha256{};
    std::int64_t timestamp_ms = 0;  // the client's, from UploadBegin
    CommandNonce nonce{};           // the client's, from UploadBegin
    std::int64_t stored_at_ms = 0;  // the server's clock when the file was committed
    Bytes server_signature;

    Bytes encode() const;
    static UploadReceipt decode(ByteView body);
    bool operator==(const UploadReceipt&) const = default;
};

struct DownloadRequest {
    static constexpr MsgType type = MsgType::download_request;
    CommandHeader header;
    std::string filename;

    Bytes encode() const;
    static DownloadRequest decode(ByteView body);
    bool operator==(const DownloadRequest&) const = default;
};

// Server -> client before the chunks. nonce echoes the request's nonce, so a recorded
// header cannot be replayed to answer a later request; timestamp is the server's clock.
struct DownloadHeader {
    static constexpr MsgType type = MsgType::download_header;
    std::uint64_t request_id = 0;
    std::string filename;
    std::uint64_t size = 0;
    Sha256 sha256{};
    std::int64_t timestamp_ms = 0;
    CommandNonce nonce{};
    Bytes server_signature;  // over download_record()

    Bytes encode() const;
    static DownloadHeader decode(ByteView body);
    bool operator==(const DownloadHeader&) const = default;
};

struct DownloadChunk {
    static constexpr MsgType type = MsgType::download_chunk;
    Bytes data;

    Bytes encode() const;
    static DownloadChunk decode(ByteView body);
    static DownloadChunk take(Bytes&& body);
    bool operator==(const DownloadChunk&) const = default;
};

// The frame header of a chunk (upload_chunk or download_chunk) carrying n bytes, for a sender
// whose data is elsewhere (a mapped file): header then data are the bytes of
// encode_message(UploadChunk{...}) / encode_message(DownloadChunk{...}). invalid_argument for
// another type or n == 0, limit_exceeded over max_chunk.
std::array<std::uint8_t, frame_header_size> chunk_frame_header(MsgType type, std::size_t n);

struct DownloadEnd {
    static constexpr MsgType type = MsgType::download_end;
    std::uint64_t request_id = 0;

    Bytes encode() const;
    static DownloadEnd decode(ByteView body);
    bool operator==(const DownloadEnd&) const = default;
};

// Client -> server: stop the current upload or download. The server always answers with
// exactly one OkReply, even when the download had already ended (the abort crossed the
// end on the wire), so the client knows when the stream is quiet again.
struct TransferAbort {
    static constexpr MsgType type = MsgType::transfer_abort;
    CommandHeader header;

    Bytes encode() const;
    static TransferAbort decode(ByteView body);
    bool operator==(const TransferAbort&) const = default;
};

}  // namespace sfts::proto
