#include "sfts/protocol/records.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

Writer start(std::string_view domain) {
    Writer w;
    w.string(domain, max_message_text, TextRule::name, "record domain");
    return w;
}

template <std::size_t N>
void put_fixed(Writer& w, const std::array<std::uint8_t, N>& a, std::string_view field) {
    w.bytes(a, N, field);
}

}  // namespace

Bytes upload_record(std::string_view user, const UploadBegin& begin, const Sha256& sha256) {
    Writer w = start(upload_record_domain);
    fields::put_user(w, user);
    fields::put_filename(w, begin.filename);
    w.u64(begin.size);
    put_fixed(w, sha256, "sha256");
    w.i64(begin.header.timestamp_ms);
    put_fixed(w, begin.header.nonce, "nonce");
    return std::move(w).take();
}

Bytes receipt_record(const UploadReceipt& receipt, ByteView upload_signature) {
    Writer w = start(receipt_record_domain);
    fields::put_user(w, receipt.user);
    fields::put_filename(w, receipt.filename);
    w.u64(receipt.size);
    put_fixed(w, receipt.sha256, "sha256");
    w.i64(receipt.timestamp_ms);
    put_fixed(w, receipt.nonce, "nonce");
    fields::put_signature(w, upload_signature);
    w.i64(receipt.stored_at_ms);
    return std::move(w).take();
}

Bytes download_record(const DownloadHeader& header) {
    Writer w = start(download_record_domain);
    fields::put_filename(w, header.filename);
    w.u64(header.size);
    put_fixed(w, header.sha256, "sha256");
    w.i64(header.timestamp_ms);
    put_fixed(w, header.nonce, "nonce");
    return std::move(w).take();
}

Bytes update_password_record(std::string_view user, const CommandHeader& header) {
    Writer w = start(update_password_record_domain);
    fields::put_user(w, user);
    w.u64(header.request_id);
    w.i64(header.timestamp_ms);
    put_fixed(w, header.nonce, "nonce");
    return std::move(w).take();
}

Bytes batch_record(std::string_view user, const BatchBegin& begin, const std::vector<BatchEntry>& entries) {
    if (entries.size() != begin.count) fail(Errc::invalid_argument, "batch record: the manifest does not hold count files");
    Writer w = start(batch_record_domain);
    w.reserve(64 + entries.size() * (4 + 64 + 8 + 4 + sha256_size));
    fields::put_user(w, user);
    w.i64(begin.header.timestamp_ms);
    put_fixed(w, begin.header.nonce, "nonce");
    w.u32(begin.count);
    w.boolean(begin.overwrite);
    for (const BatchEntry& e : entries) {
        fields::put_filename(w, e.filename);
        w.u64(e.size);
        put_fixed(w, e.sha256, "sha256");
    }
    return std::move(w).take();
}

Bytes batch_receipt_record(std::string_view user, const BatchBegin& begin, ByteView batch_signature,
                           std::int64_t stored_at_ms) {
    Writer w = start(batch_receipt_record_domain);
    fields::put_user(w, user);
    w.i64(begin.header.timestamp_ms);
    put_fixed(w, begin.header.nonce, "nonce");
    w.u32(begin.count);
    fields::put_signature(w, batch_signature);
    w.i64(stored_at_ms);
    return std::move(w).take();
}

}  // namespace sfts::proto
