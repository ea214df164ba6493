#include "sfts/protocol/messages_common.hpp"

#include <utility>

#include "fields.hpp"
#include "sfts/protocol/status.hpp"

namespace sfts::proto {

void CommandHeader::write(Writer& w) const {
    w.u64(request_id);
    w.i64(timestamp_ms);
    w.fixed(nonce);
}

CommandHeader CommandHeader::read(Reader& r) {
    CommandHeader h;
    h.request_id = r.u64();
    h.timestamp_ms = r.i64();
    h.nonce = r.fixed<command_nonce_size>();
    return h;
}

Bytes Hello::encode() const {
    Writer w;
    w.fixed(protocol_magic);
    w.u16(version);
    w.u8(static_cast<std::uint8_t>(service));
    return std::move(w).take();
}

Hello Hello::decode(ByteView body) {
    Reader r(body);
    r.expect_magic();
    Hello m;
    m.version = r.u16();
    const std::uint8_t service = r.u8();
    if (service != static_cast<std::uint8_t>(Service::enroll) &&
        service != static_cast<std::uint8_t>(Service::file)) {
        fail(Errc::protocol, "hello: unknown service");
    }
    m.service = static_cast<Service>(service);
    r.expect_end();
    return m;
}

namespace {
constexpr std::uint8_t flag_initial_password = 0x01;
}

Bytes ServerHello::encode() const {
    Writer w;
    w.fixed(protocol_magic);
    w.u16(version);
    w.u8(initial_password_required ? flag_initial_password : 0);
    return std::move(w).take();
}

ServerHello ServerHello::decode(ByteView body) {
    Reader r(body);
    r.expect_magic();
    ServerHello m;
    m.version = r.u16();
    const std::uint8_t flags = r.u8();
    // Reserved bits must be zero: a future flag must not be silently ignored.
    if ((flags & ~flag_initial_password) != 0) fail(Errc::protocol, "server hello: reserved flags set");
    m.initial_password_required = (flags & flag_initial_password) != 0;
    r.expect_end();
    return m;
}

Bytes OkReply::encode() const {
    Writer w;
    w.u64(request_id);
    fields::put_message_text(w, message);
    return std::move(w).take();
}

OkReply OkReply::decode(ByteView body) {
    Reader r(body);
    OkReply m;
    m.request_id = r.u64();
    m.message = fields::get_message_text(r);
    r.expect_end();
    return m;
}

ErrorReply ErrorReply::make(std::uint64_t request_id, Errc kind, std::string message) {
    return ErrorReply{request_id, wire_status(kind), std::move(message)};
}

Errc ErrorReply::errc() const noexcept { return errc_from_wire(status); }

Bytes ErrorReply::encode() const {
    if (status == wire_status(Errc::ok)) fail(Errc::invalid_argument, "error reply: status is ok");
    Writer w;
    w.u64(request_id);
    w.u16(status);
    fields::put_message_text(w, message);
    return std::move(w).take();
}

ErrorReply ErrorReply::decode(ByteView body) {
    Reader r(body);
    ErrorReply m;
    m.request_id = r.u64();
    m.status = r.u16();
    if (m.status == wire_status(Errc::ok)) fail(Errc::protocol, "error reply: status is ok");
    m.message = fields::get_message_text(r);
    r.expect_end();
    return m;
}

}  // namespace sfts::proto
