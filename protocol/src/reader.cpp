#include "sfts/protocol/reader.hpp"

#include <algorithm>
#include <string>

#include "sfts/protocol/limits.hpp"

namespace sfts::proto {
namespace {

[[noreturn]] void too_long(std::string_view field, std::size_t n, std::size_t max) {
    fail(Errc::limit_exceeded,
         std::string(field) + ": " + std::to_string(n) + " exceeds limit " + std::to_string(max));
}

}  // namespace

ByteView Reader::raw(std::size_t n) {
    if (n > in_.size()) {
        fail(Errc::protocol, "truncated message: need " + std::to_string(n) + " bytes, " +
                                 std::to_string(in_.size()) + " left");
    }
    const ByteView v = in_.first(n);
    in_ = in_.subspan(n);
    return v;
}

std::uint8_t Reader::u8() { return raw(1)[0]; }

std::uint16_t Reader::u16() {
    const ByteView v = raw(2);
    return static_cast<std::uint16_t>((v[0] << 8) | v[1]);
}

std::uint32_t Reader::u32() {
    const std::uint32_t hi = u16();
    return (hi << 16) | u16();
}

std::uint64_t Reader::u64() {
    const std::uint64_t hi = u32();
    return (hi << 32) | u32();
}

std::int64_t Reader::i64() { return static_cast<std::int64_t>(u64()); }

bool Reader::boolean(std::string_view field) {
    const std::uint8_t v = u8();
    if (v > 1) fail(Errc::protocol, std::string(field) + ": boolean is neither 0 nor 1");
    return v == 1;
}

ByteView Reader::bytes(std::size_t max, std::string_view field) {
    const std::uint32_t n = u32();
    if (n > max) too_long(field, n, max);
    return raw(n);
}

ByteView Reader::nonempty_bytes(std::size_t max, std::string_view field) {
    const ByteView v = bytes(max, field);
    if (v.empty()) fail(Errc::protocol, std::string(field) + ": empty");
    return v;
}

std::string_view Reader::string(std::size_t max, TextRule rule, std::string_view field) {
    const ByteView v = bytes(max, field);
    const std::string_view s(reinterpret_cast<const char*>(v.data()), v.size());
    check_text(s, max, rule, field, Errc::protocol);
    return s;
}

std::size_t Reader::count(std::size_t max, std::size_t min_element_size,
                          std::string_view field) {
    const std::uint32_t n = u32();
    if (n > max) too_long(field, n, max);
    if (min_element_size > 0 && n > in_.size() / min_element_size) {
        fail(Errc::protocol, std::string(field) + ": count exceeds the bytes left");
    }
    return n;
}

ByteView Reader::rest(std::size_t max, std::string_view field) {
    if (in_.size() > max) too_long(field, in_.size(), max);
    return raw(in_.size());
}

void Reader::expect_magic() {
    const ByteView m = raw(protocol_magic.size());
    if (!std::equal(m.begin(), m.end(), protocol_magic.begin())) {
        fail(Errc::protocol, "bad protocol magic: not an sfts peer");
    }
}

void Reader::expect_end() const {
    if (!in_.empty()) {
        fail(Errc::protocol, std::to_string(in_.size()) + " trailing bytes after message");
    }
}

}  // namespace sfts::proto
