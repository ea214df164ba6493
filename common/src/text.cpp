#include "sfts/text.hpp"

#include <cstdint>
#include <cstdio>

namespace sfts {
namespace {

// One unit of input: len bytes starting at the current position, shown either as they are
// (esc empty) or as the escape sequence esc.
struct Unit {
    std::size_t len;
    std::string esc;
};

std::string hex_byte(unsigned char c) {
    char buf[5];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    return buf;
}

bool invisible(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb);
}

bool cont(unsigned char c) { return (c & 0xc0) == 0x80; }

// Length of the valid UTF-8 sequence at s[i] (2..4) and its code point, or 0 when the bytes
// there are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
std::size_t utf8_at(std::string_view s, std::size_t i, std::uint32_t& cp) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (b(1) < lo || b(1) > hi) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if (!cont(b(k))) return 0;
        cp = (cp << 6) | (b(k) & 0x3f);
    }
    return n;
}

Unit unit_at(std::string_view s, std::size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        switch (c) {
            case '\n': return {1, "\\n"};
            case '\r': return {1, "\\r"};
            case '\t': return {1, "\\t"};
            default: break;
        }
        if (c < 0x20 || c == 0x7f) return {1, hex_byte(c)};
        return {1, {}};
    }
    std::uint32_t cp = 0;
    std::size_t n = utf8_at(s, i, cp);
    if (n == 0) return {1, hex_byte(c)};
    if (invisible(cp)) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        return {n, buf};
    }
    return {n, {}};
}

bool shell_safe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("%+,-./:=@_^").find(c) != std::string_view::npos;
}

bool white(std::uint32_t cp) {
    return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

}  // namespace

bool is_blank(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::uint32_t cp = c;
        std::size_t n = 1;
        if (c >= 0x80) {
            n = utf8_at(s, i, cp);
            if (n == 0) return false;  // shows as \xHH
        }
        if (!white(cp) && !(cp >= 0x80 && invisible(cp))) return false;
        i += n;
    }
    return true;
}

std::string escape_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        Unit u = unit_at(s, i);
        if (!u.esc.empty())
            out += u.esc;
        else if (s[i] == '\\')
            out += "\\\\";
        else
            out.append(s.substr(i, u.len));
        i += u.len;
    }
    return out;
}

bool has_unsafe_text(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        Unit u = unit_at(s, i);
        if (!u.esc.empty()) return true;
        i += u.len;
    }
    return false;
}

std::string quote_name(std::string_view s) {
    bool plain = !s.empty() && s[0] != '~' && s[0] != '#';
    for (std::size_t i = 0; plain && i < s.size();) {
        Unit u = unit_at(s, i);
        if (!u.esc.empty() || (u.len == 1 && !shell_safe(s[i]))) plain = false;
        i += u.len;
    }
    if (plain) return std::string(s);

    // Printable runs go in '...', the rest in $'...'; adjacent quoted strings concatenate.
    std::string out;
    bool in_plain = false, in_dollar = false;
    auto close = [&] {
        if (in_plain || in_dollar) out += '\'';
        in_plain = in_dollar = false;
    };
    for (std::size_t i = 0; i < s.size();) {
        Unit u = unit_at(s, i);
        if (!u.esc.empty()) {
            if (!in_dollar) {
                close();
                out += "$'";
                in_dollar = true;
            }
            out += u.esc;  // \n \t \r \xHH \uHHHH all mean the same inside $'...'
        } else if (s[i] == '\'') {
            close();
            out += "\\'";
        } else {
            if (!in_plain) {
                close();
                out += '\'';
                in_plain = true;
            }
            out.append(s.substr(i, u.len));
        }
        i += u.len;
    }
    close();
    if (out.empty()) out = "''";
    return out;
}

}  // namespace sfts
