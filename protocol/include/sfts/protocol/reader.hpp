// Reads big-endian fields from an untrusted message body. Every length is checked against
// its named maximum (else Error(limit_exceeded)) and against the bytes left (else
// Error(protocol)) before anything is copied or allocated; strings are checked against a
// TextRule; expect_end() rejects trailing bytes. Views returned point into the body.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/text.hpp"

namespace sfts::proto {

class Reader {
public:
    explicit Reader(ByteView body) noexcept : in_(body) {}

    std::uint8_t u8();
    std::uint16_t u16();
    std::uint32_t u32();
    std::uint64_t u64();
    std::int64_t i64();
    // Only 0 and 1: a second spelling of "true" would make the encoding non-canonical.
    bool boolean(std::string_view field);

    ByteView raw(std::size_t n);
    template <std::size_t N>
    std::array<std::uint8_t, N> fixed() {
        std::array<std::uint8_t, N> a{};
        const ByteView v = raw(N);
        std::copy(v.begin(), v.end(), a.begin());
        return a;
    }

    ByteView bytes(std::size_t max, std::string_view field);
    ByteView nonempty_bytes(std::size_t max, std::string_view field);
    std::string_view string(std::size_t max, TextRule rule, std::string_view field);
    // An element count, also checked against how many elements of at least
    // min_element_size bytes could still follow, so a huge count fails before any reserve().
    std::size_t count(std::size_t max, std::size_t min_element_size, std::string_view field);
    // All remaining bytes, for a body that is one blob (a chunk).
    ByteView rest(std::size_t max, std::string_view field);

    void expect_magic();
    void expect_end() const;
    std::size_t remaining() const noexcept { return in_.size(); }

private:
    ByteView in_;
};

}  // namespace sfts::proto
