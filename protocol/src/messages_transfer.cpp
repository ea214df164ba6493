#include "sfts/protocol/messages_transfer.hpp"

#include <algorithm>
#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

// A chunk body is the data itself; an empty chunk carries nothing and is refused so a
// peer cannot spin the receiver with free frames.
Bytes encode_chunk(ByteView data) {
    if (data.empty()) fail(Errc::invalid_argument, "chunk: empty");
    if (data.size() > max_chunk) fail(Errc::limit_exceeded, "chunk: larger than max_chunk");
    return Bytes(data.begin(), data.end());
}

Bytes decode_chunk(ByteView body) {
    Reader r(body);
    const ByteView data = r.rest(max_chunk, "chunk");
    if (data.empty()) fail(Errc::protocol, "chunk: empty");
    return fields::to_bytes(data);
}

Bytes take_chunk(Bytes&& body) {
    (void)Reader(body).rest(max_chunk, "chunk");  // the same limit check and message as decode
    if (body.empty()) fail(Errc::protocol, "chunk: empty");
    return std::move(body);
}

}  // namespace

Bytes UploadBegin::encode() const {
    Writer w;
    header.write(w);
    fields::put_filename(w, filename);
    w.u64(size);
    w.boolean(overwrite);
    return std::move(w).take();
}

UploadBegin UploadBegin::decode(ByteView body) {
    Reader r(body);
    UploadBegin m;
    m.header = CommandHeader::read(r);
    m.filename = fields::get_filename(r);
    m.size = r.u64();
    m.overwrite = r.boolean("overwrite");
    r.expect_end();
    return m;
}

Bytes UploadChunk::encode() const { return encode_chunk(data); }
UploadChunk UploadChunk::decode(ByteView body) { return {decode_chunk(body)}; }
UploadChunk UploadChunk::take(Bytes&& body) { return {take_chunk(std::move(body))}; }

Bytes UploadEnd::encode() const {
    Writer w;
    w.fixed(sha256);
    fields::put_signature(w, signature);
    return std::move(w).take();
}

UploadEnd UploadEnd::decode(ByteView body) {
    Reader r(body);
    UploadEnd m;
    m.sha256 = r.fixed<sha256_size>();
    m.signature = fields::get_signature(r);
    r.expect_end();
    return m;
}

Bytes UploadReceipt::encode() const {
    Writer w;
    w.u64(request_id);
    fields::put_user(w, user);
    fields::put_filename(w, filename);
    w.u64(size);
    w.fixed(sha256);
    w.i64(timestamp_ms);
    w.fixed(nonce);
    w.i64(stored_at_ms);
    fields::put_signature(w, server_signature);
    return std::move(w).take();
}

UploadReceipt UploadReceipt::decode(ByteView body) {
    Reader r(body);
    UploadReceipt m;
    m.request_id = r.u64();
    m.user = fields::get_user(r);
    m.filename = fields::get_filename(r);
    m.size = r.u64();
    m.sha256 = r.fixed<sha256_size>();
    m.timestamp_ms = r.i64();
    m.nonce = r.fixed<command_nonce_size>();
    m.stored_at_ms = r.i64();
    m.server_signature = fields::get_signature(r);
    r.expect_end();
    return m;
}

Bytes DownloadRequest::encode() const {
    Writer w;
    header.write(w);
    fields::put_filename(w, filename);
    return std::move(w).take();
}

DownloadRequest DownloadRequest::decode(ByteView body) {
    Reader r(body);
    DownloadRequest m;
    m.header = CommandHeader::read(r);
    m.filename = fields::get_filename(r);
    r.expect_end();
    return m;
}

Bytes DownloadHeader::encode() const {
    Writer w;
    w.u64(request_id);
    fields::put_filename(w, filename);
    w.u64(size);
    w.fixed(sha256);
    w.i64(timestamp_ms);
    w.fixed(nonce);
    fields::put_signature(w, server_signature);
    return std::move(w).take();
}

DownloadHeader DownloadHeader::decode(ByteView body) {
    Reader r(body);
    DownloadHeader m;
    m.request_id = r.u64();
    m.filename = fields::get_filename(r);
    m.size = r.u64();
    m.sha256 = r.fixed<sha256_size>();
    m.timestamp_ms = r.i64();
    m.nonce = r.fixed<command_nonce_size>();
    m.server_signature = fields::get_signature(r);
    r.expect_end();
    return m;
}

Bytes DownloadChunk::encode() const { return encode_chunk(data); }
DownloadChunk DownloadChunk::decode(ByteView body) { return {decode_chunk(body)}; }
DownloadChunk DownloadChunk::take(Bytes&& body) { return {take_chunk(std::move(body))}; }

std::array<std::uint8_t, frame_header_size> chunk_frame_header(MsgType type, std::size_t n) {
    if (type != MsgType::upload_chunk && type != MsgType::download_chunk)
        fail(Errc::invalid_argument, "chunk header: not a chunk type");
    if (n == 0) fail(Errc::invalid_argument, "chunk: empty");
    if (n > max_chunk) fail(Errc::limit_exceeded, "chunk: larger than max_chunk");
    const auto len = static_cast<std::uint32_t>(n);
    return {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
            static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), static_cast<std::uint8_t>(type)};
}

Bytes DownloadEnd::encode() const {
    Writer w;
    w.u64(request_id);
    return std::move(w).take();
}

DownloadEnd DownloadEnd::decode(ByteView body) {
    Reader r(body);
    DownloadEnd m;
    m.request_id = r.u64();
    r.expect_end();
    return m;
}

Bytes TransferAbort::encode() const {
    Writer w;
    header.write(w);
    return std::move(w).take();
}

TransferAbort TransferAbort::decode(ByteView body) {
    Reader r(body);
    TransferAbort m;
    m.header = CommandHeader::read(r);
    r.expect_end();
    return m;
}

}  // namespace sfts::proto
