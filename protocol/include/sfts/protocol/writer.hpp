// Appends big-endian fields to a buffer. Every variable-length field is a u32 length
// followed by its bytes. Local input that breaks a limit or a text rule throws here, on
// the sending side, instead of being sent and rejected by the peer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/text.hpp"

namespace sfts::proto {

class Writer {
public:
    void u8(std::uint8_t v);
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i64(std::int64_t v);
    void boolean(bool v) { u8(v ? 1 : 0); }

    // A fixed-size field: both sides know its length, so none is sent.
    void raw(ByteView b);
    template <std::size_t N>
    void fixed(const std::array<std::uint8_t, N>& a) {
        raw(a);
    }

    // u32 length + bytes; Error(limit_exceeded) above max, Error(invalid_argument) when
    // empty and non_empty is asked for.
    void bytes(ByteView b, std::size_t max, std::string_view field);
    void nonempty_bytes(ByteView b, std::size_t max, std::string_view field);
    // u32 length + UTF-8 bytes checked against rule (text.hpp).
    void string(std::string_view s, std::size_t max, TextRule rule, std::string_view field);
    // u32 element count, for a list whose elements follow.
    void count(std::size_t n, std::size_t max, std::string_view field);

    // Sizes the buffer once, so a body holding a password is never copied by a regrowth
    // that frees the old, unwiped buffer.
    void reserve(std::size_t n) { out_.reserve(n); }

    const Bytes& data() const noexcept { return out_; }
    Bytes take() && noexcept { return std::move(out_); }

private:
    Bytes out_;
};

}  // namespace sfts::proto
