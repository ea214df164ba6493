#include "format.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace sfts::tui {

namespace {

// v with one decimal or none, then the unit.
std::string fmt(bool decimal, double v, const char* unit) {
    char buf[32];
    if (decimal) std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
    else std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
    return buf;
}

}  // namespace

std::string human_size(std::uint64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        ++u;
    }
    return fmt(true, v, (std::string(" ") + units[u]).c_str());
}

std::string compact_size(std::uint64_t bytes) {
    static const char* units[] = {"", "K", "M", "G", "T", "P"};
    if (bytes < 1024) return std::to_string(bytes);
    double v = static_cast<double>(bytes) / 1024;
    int u = 1;
    while (v >= 1000 && u < 5) {  // 1000, not 1024: keeps the text within 3 digits plus a unit
        v /= 1024;
        ++u;
    }
    return v < 10 ? fmt(true, std::floor(v * 10) / 10, units[u]) : fmt(false, std::floor(v), units[u]);
}

std::string eta_text(std::optional<double> seconds) {
    if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 99 * 3600.0) return "--:--";
    auto s = static_cast<long>(std::ceil(*seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

int percent(std::uint64_t done, std::uint64_t total) {
    if (total == 0 || done >= total) return 100;
    return static_cast<int>(static_cast<long double>(done) * 100 / static_cast<long double>(total));
}

std::string progress_text(std::uint64_t done, std::uint64_t total, double bytes_per_second) {
    std::optional<double> eta;
    if (done >= total) eta = 0.0;
    else if (bytes_per_second > 0) eta = static_cast<double>(total - done) / bytes_per_second;
    std::string rate = bytes_per_second > 0 ? human_size(static_cast<std::uint64_t>(bytes_per_second)) + "/s" : "-- B/s";
    return human_size(done) + " / " + human_size(total) + " - " + std::to_string(percent(done, total)) + "% - ETA " +
           eta_text(eta) + " - " + rate;
}

std::string short_time(std::int64_t epoch_s) {
    std::time_t t = static_cast<std::time_t>(epoch_s);
    struct tm tm {};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%m-%d %H:%M", &tm);
    return buf;
}

std::string long_time(std::int64_t epoch_s) {
    std::time_t t = static_cast<std::time_t>(epoch_s);
    struct tm tm {};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

namespace {

// One unit of input at s[i]: its length in bytes, and its escape ("" when shown as it is).
struct Unit {
    std::size_t len;
    std::string esc;
};

std::string hex_escape(bool unicode, unsigned v) {
    char buf[12];
    if (unicode) std::snprintf(buf, sizeof buf, "\\u%04x", v);
    else std::snprintf(buf, sizeof buf, "\\x%02x", v);
    return buf;
}

bool invisible(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb);
}

// The valid UTF-8 sequence at s[i] (RFC 3629: no overlong forms, surrogates or code points past
// U+10FFFF): its length and code point; 0 when the bytes there are not one.
std::size_t utf8_at(std::string_view s, std::size_t i, std::uint32_t& cp) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0), lo = 0x80, hi = 0xbf;
    std::size_t n = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (i + n > s.size() || b(1) < lo || b(1) > hi) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3fu);
    }
    return n;
}

Unit unit_at(std::string_view s, std::size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        if (c == '\n') return {1, "\\n"};
        if (c == '\r') return {1, "\\r"};
        if (c == '\t') return {1, "\\t"};
        if (c < 0x20 || c == 0x7f) return {1, hex_escape(false, c)};
        return {1, {}};
    }
    std::uint32_t cp = 0;
    std::size_t n = utf8_at(s, i, cp);
    if (n == 0) return {1, hex_escape(false, c)};
    if (invisible(cp)) return {n, hex_escape(true, cp)};
    return {n, {}};
}

}  // namespace

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        Unit u = unit_at(s, i);
        if (!u.esc.empty()) out += u.esc;
        else if (s[i] == '\\') out += "\\\\";
        else out.append(s.substr(i, u.len));
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

std::string terminal_safe(std::string_view s) { return has_unsafe_text(s) ? printable(s) : std::string(s); }

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace sfts::tui
