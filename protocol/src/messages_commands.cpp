#include "sfts/protocol/messages_commands.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

// The least an encoded ListEntry can take (name and uploader are non-empty), used to refuse
// a count the remaining bytes cannot hold before reserving room for it.
constexpr std::size_t min_list_entry_size = (4 + 1) + 8 + 8 + sha256_size + (4 + 1);
constexpr std::size_t max_list_entry_size =
    (4 + max_filename_bytes) + 8 + 8 + sha256_size + (4 + max_user_bytes);
// A full page must fit in one frame, or a server could build a page it cannot send.
static_assert(8 + 4 + max_list_entries * max_list_entry_size + 4 + max_filename_bytes <=
              max_frame_body);

constexpr std::size_t min_command_name_size = 4 + 1;

template <typename M>
Bytes encode_header_only(const M& m) {
    Writer w;
    m.header.write(w);
    return std::move(w).take();
}

template <typename M>
M decode_header_only(ByteView body) {
    Reader r(body);
    M m;
    m.header = CommandHeader::read(r);
    r.expect_end();
    return m;
}

}  // namespace

Bytes ListRequest::encode() const {
    Writer w;
    header.write(w);
    fields::put_cursor(w, cursor, "cursor");
    return std::move(w).take();
}

ListRequest ListRequest::decode(ByteView body) {
    Reader r(body);
    ListRequest m;
    m.header = CommandHeader::read(r);
    m.cursor = fields::get_cursor(r, "cursor");
    r.expect_end();
    return m;
}

Bytes ListPage::encode() const {
    Writer w;
    w.u64(request_id);
    w.count(entries.size(), max_list_entries, "list entries");
    for (const ListEntry& e : entries) {
        fields::put_filename(w, e.name, "entry name");
        w.u64(e.size);
        w.i64(e.mtime_ms);
        w.fixed(e.sha256);
        fields::put_user(w, e.uploader, "entry uploader");
    }
    fields::put_cursor(w, next_cursor, "next cursor");
    return std::move(w).take();
}

ListPage ListPage::decode(ByteView body) {
    Reader r(body);
    ListPage m;
    m.request_id = r.u64();
    const std::size_t n = r.count(max_list_entries, min_list_entry_size, "list entries");
    m.entries.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        ListEntry e;
        e.name = fields::get_filename(r, "entry name");
        e.size = r.u64();
        e.mtime_ms = r.i64();
        e.sha256 = r.fixed<sha256_size>();
        e.uploader = fields::get_user(r, "entry uploader");
        m.entries.push_back(std::move(e));
    }
    m.next_cursor = fields::get_cursor(r, "next cursor");
    r.expect_end();
    return m;
}

Bytes DeleteRequest::encode() const {
    Writer w;
    header.write(w);
    fields::put_filename(w, filename);
    return std::move(w).take();
}

DeleteRequest DeleteRequest::decode(ByteView body) {
    Reader r(body);
    DeleteRequest m;
    m.header = CommandHeader::read(r);
    m.filename = fields::get_filename(r);
    r.expect_end();
    return m;
}

Bytes UpdatePassword::encode() const {
    Writer w;
    w.reserve(8 + 8 + command_nonce_size + hmac_size + 4 + new_password.size());
    header.write(w);
    w.fixed(old_proof);
    w.string(new_password.view(), max_password_bytes, TextRule::name, "new password");
    return std::move(w).take();
}

UpdatePassword UpdatePassword::decode(ByteView body) {
    Reader r(body);
    UpdatePassword m;
    m.header = CommandHeader::read(r);
    m.old_proof = r.fixed<hmac_size>();
    m.new_password = Secret(r.string(max_password_bytes, TextRule::name, "new password"));
    r.expect_end();
    return m;
}

Bytes HelpRequest::encode() const { return encode_header_only(*this); }
HelpRequest HelpRequest::decode(ByteView body) { return decode_header_only<HelpRequest>(body); }

Bytes HelpReply::encode() const {
    Writer w;
    w.u64(request_id);
    w.count(commands.size(), max_help_commands, "commands");
    for (const std::string& c : commands) {
        w.string(c, max_command_name_bytes, TextRule::name, "command name");
    }
    return std::move(w).take();
}

HelpReply HelpReply::decode(ByteView body) {
    Reader r(body);
    HelpReply m;
    m.request_id = r.u64();
    const std::size_t n = r.count(max_help_commands, min_command_name_size, "commands");
    m.commands.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.commands.emplace_back(r.string(max_command_name_bytes, TextRule::name, "command name"));
    }
    r.expect_end();
    return m;
}

Bytes ExitRequest::encode() const { return encode_header_only(*this); }
ExitRequest ExitRequest::decode(ByteView body) { return decode_header_only<ExitRequest>(body); }

}  // namespace sfts::proto
