#include "sfts/protocol/writer.hpp"

#include <string>

namespace sfts::proto {
namespace {

void check_size(std::size_t n, std::size_t max, std::string_view field) {
    if (n > max) {
        fail(Errc::limit_exceeded, std::string(field) + ": " + std::to_string(n) +
                                       " exceeds limit " + std::to_string(max));
    }
}

}  // namespace

void Writer::u8(std::uint8_t v) { out_.push_back(v); }

void Writer::u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
}

void Writer::u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
}

void Writer::u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
}

// Two's complement, which C++20 guarantees for the conversion.
void Writer::i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }

void Writer::raw(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }

void Writer::bytes(ByteView b, std::size_t max, std::string_view field) {
    check_size(b.size(), max, field);
    u32(static_cast<std::uint32_t>(b.size()));
    raw(b);
}

void Writer::nonempty_bytes(ByteView b, std::size_t max, std::string_view field) {
    if (b.empty()) fail(Errc::invalid_argument, std::string(field) + ": empty");
    bytes(b, max, field);
}

void Writer::string(std::string_view s, std::size_t max, TextRule rule, std::string_view field) {
    check_text(s, max, rule, field, Errc::invalid_argument);
    u32(static_cast<std::uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
}

void Writer::count(std::size_t n, std::size_t max, std::string_view field) {
    check_size(n, max, field);
    u32(static_cast<std::uint32_t>(n));
}

}  // namespace sfts::proto
