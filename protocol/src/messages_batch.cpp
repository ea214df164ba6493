#include "sfts/protocol/messages_batch.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

std::uint32_t get_count(Reader& r) {
    const std::uint32_t n = r.u32();
    if (n > max_batch_files) fail(Errc::limit_exceeded, "batch: more than " + std::to_string(max_batch_files) + " files");
    if (n == 0) fail(Errc::protocol, "batch: no files");
    return n;
}

}  // namespace

Bytes BatchBegin::encode() const {
    if (count == 0) fail(Errc::invalid_argument, "batch: no files");
    if (count > max_batch_files) fail(Errc::limit_exceeded, "batch: more than " + std::to_string(max_batch_files) + " files");
    Writer w;
    header.write(w);
    w.u32(count);
    w.boolean(overwrite);
    return std::move(w).take();
}

BatchBegin BatchBegin::decode(ByteView body) {
    Reader r(body);
    BatchBegin m;
    m.header = CommandHeader::read(r);
    m.count = get_count(r);
    m.overwrite = r.boolean("overwrite");
    r.expect_end();
    return m;
}

Bytes BatchFile::encode() const {
    if (data.size() > max_batch_file_bytes) fail(Errc::limit_exceeded, "batch file: larger than a batch carries");
    Writer w;
    w.reserve(4 + filename.size() + data.size());
    fields::put_filename(w, filename);
    w.raw(data);
    return std::move(w).take();
}

BatchFile BatchFile::decode(ByteView body) {
    Reader r(body);
    BatchFile m;
    m.filename = fields::get_filename(r);
    m.data = fields::to_bytes(r.rest(max_batch_file_bytes, "batch file data"));
    return m;
}

Bytes BatchEnd::encode() const {
    Writer w;
    fields::put_signature(w, signature);
    return std::move(w).take();
}

BatchEnd BatchEnd::decode(ByteView body) {
    Reader r(body);
    BatchEnd m;
    m.signature = fields::get_signature(r);
    r.expect_end();
    return m;
}

Bytes BatchReceipt::encode() const {
    if (count == 0 || count > max_batch_files) fail(Errc::invalid_argument, "batch receipt: bad count");
    Writer w;
    w.u64(request_id);
    w.u32(count);
    w.i64(stored_at_ms);
    fields::put_signature(w, server_signature);
    return std::move(w).take();
}

BatchReceipt BatchReceipt::decode(ByteView body) {
    Reader r(body);
    BatchReceipt m;
    m.request_id = r.u64();
    m.count = get_count(r);
    m.stored_at_ms = r.i64();
    m.server_signature = fields::get_signature(r);
    r.expect_end();
    return m;
}

}  // namespace sfts::proto
