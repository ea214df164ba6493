#include "sfts/protocol/text.hpp"

#include <cstdint>
#include <string>

namespace sfts::proto {
namespace {

// Decodes one code point starting at s[i]; returns false on any ill-formed sequence.
// Table 3-7 of the Unicode standard, which is what RFC 3629 section 4 restates.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
    const std::uint8_t b0 = byte(i);
    std::size_t len = 0;
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (b0 < 0x80) {
        cp = b0;
        ++i;
        return true;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
        const std::uint8_t b = byte(i + k);
        const std::uint8_t min = k == 1 ? lo : 0x80;
        const std::uint8_t max = k == 1 ? hi : 0xBF;
        if (b < min || b > max) return false;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    i += len;
    return true;
}

bool is_control(char32_t cp) noexcept {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        if (!next_code_point(s, i, cp)) return false;
    }
    return true;
}

std::string_view text_problem(std::string_view s, TextRule rule) noexcept {
    if (rule != TextRule::text && s.empty()) return "empty";
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        if (!next_code_point(s, i, cp)) return "not UTF-8";
        if (cp == 0) return "NUL character";
        const bool allowed_in_text = rule == TextRule::text && (cp == U'\t' || cp == U'\n');
        if (is_control(cp) && !allowed_in_text) return "control character";
        if (rule == TextRule::filename && (cp == U'/' || cp == U'\\')) return "path separator";
    }
    if (rule == TextRule::filename && (s == "." || s == "..")) return "dot name";
    return {};
}

void check_text(std::string_view s, std::size_t max, TextRule rule, std::string_view field,
                Errc malformed) {
    if (s.size() > max) {
        fail(Errc::limit_exceeded, std::string(field) + ": " + std::to_string(s.size()) +
                                       " bytes, limit " + std::to_string(max));
    }
    if (const auto why = text_problem(s, rule); !why.empty()) {
        fail(malformed, std::string(field) + ": " + std::string(why));
    }
}

}  // namespace sfts::proto
