#include "record.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <set>
#include <vector>

#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::audit::detail {
namespace {

constexpr std::array<std::string_view, 5> kReservedKeys{"seq", "time", "event", "prev", "hash"};
constexpr std::string_view kHashMember = ",\"hash\":\"";

unsigned char byte_at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629 section 4, table of
// well-formed byte sequences), or 0 if it is ill-formed. Writes the code point to *cp.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t* cp) {
    const unsigned char b0 = byte_at(s, i);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3;
        if (b0 == 0xe0) lo = 0xa0;  // no overlong forms
        if (b0 == 0xed) hi = 0x9f;  // no surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4;
        if (b0 == 0xf0) lo = 0x90;  // no overlong forms
        if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - i < len) return 0;
    const unsigned char b1 = byte_at(s, i + 1);
    if (b1 < lo || b1 > hi) return 0;
    std::uint32_t c = b0 & (0x7fu >> len);
    for (std::size_t k = 1; k < len; ++k) {
        const unsigned char b = byte_at(s, i + k);
        if ((b & 0xc0) != 0x80) return 0;
        c = (c << 6) | (b & 0x3fu);
    }
    *cp = c;
    return len;
}

void append_u00(std::string& out, unsigned c) {
    static const char digits[] = "0123456789abcdef";
    out += "\\u00";
    out.push_back(digits[(c >> 4) & 0xf]);
    out.push_back(digits[c & 0xf]);
}

// A strict reader of exactly the JSON subset the writer produces.
class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    bool at_end() const { return pos_ == s_.size(); }
    std::size_t pos() const { return pos_; }
    bool take(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool peek_digit() const { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

    // A JSON string; on failure sets error_.
    bool string(std::string& out) {
        if (!take('"')) return set_error("expected a string");
        out.clear();
        while (pos_ < s_.size()) {
            const unsigned char c = byte_at(s_, pos_);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return set_error("raw control character in a string");
            if (c == '\\') {
                if (!escape(out)) return false;
                continue;
            }
            std::uint32_t cp = 0;
            const std::size_t n = utf8_sequence(s_, pos_, &cp);
            if (n == 0) return set_error("invalid UTF-8");
            out.append(s_.substr(pos_, n));
            pos_ += n;
        }
        return set_error("unterminated string");
    }

    // A non-negative integer without sign, fraction, exponent or leading zero.
    bool integer(std::uint64_t& out) {
        if (!peek_digit()) return set_error("expected an integer");
        if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
            return set_error("leading zero in a number");
        out = 0;
        while (peek_digit()) {
            const auto d = static_cast<std::uint64_t>(s_[pos_] - '0');
            if (out > (UINT64_MAX - d) / 10) return set_error("number out of range");
            out = out * 10 + d;
            ++pos_;
        }
        if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))
            return set_error("not an integer");
        return true;
    }

    bool set_error(std::string e) {
        if (error_.empty()) error_ = std::move(e) + " at byte " + std::to_string(pos_ + 1);
        return false;
    }
    const std::string& error() const { return error_; }

private:
    bool hex4(std::uint32_t& v) {
        if (s_.size() - pos_ < 4) return set_error("short \\u escape");
        v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else
                return set_error("bad \\u escape");
        }
        return true;
    }

    bool escape(std::string& out) {
        ++pos_;  // the backslash
        if (pos_ >= s_.size()) return set_error("unterminated escape");
        const char c = s_[pos_++];
        switch (c) {
            case '"':
                out.push_back('"');
                return true;
            case '\\':
                out.push_back('\\');
                return true;
            case '/':
                out.push_back('/');
                return true;
            case 'b':
                out.push_back('\b');
                return true;
            case 'f':
                out.push_back('\f');
                return true;
            case 'n':
                out.push_back('\n');
                return true;
            case 'r':
                out.push_back('\r');
                return true;
            case 't':
                out.push_back('\t');
                return true;
            case 'u':
                break;
            default:
                return set_error("bad escape");
        }
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xdc00 && cp <= 0xdfff) return set_error("lone low surrogate");
        if (cp >= 0xd800 && cp <= 0xdbff) {  // RFC 8259 section 7: a surrogate pair
            std::uint32_t lo = 0;
            if (!take('\\') || !take('u') || !hex4(lo) || lo < 0xdc00 || lo > 0xdfff)
                return set_error("lone high surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        // Encode as UTF-8.
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else {
            out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
        return true;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::string error_;
};

bool lower_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

ParseResult not_record(std::string why) {
    ParseResult r;
    r.error = std::move(why);
    return r;
}

}  // namespace

void append_escaped(std::string& out, std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = byte_at(s, i);
        if (c < 0x20 || c == 0x7f) {
            append_u00(out, c);
            ++i;
        } else if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
        } else {
            std::uint32_t cp = 0;
            const std::size_t n = utf8_sequence(s, i, &cp);
            if (n == 0) {
                out += "\xef\xbf\xbd";  // U+FFFD for this one byte; resynchronise at the next
                ++i;
            } else if (cp <= 0x9f) {
                append_u00(out, cp);  // C1 controls: CSI (U+009B) drives some terminals
                i += n;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
        }
    }
}

bool valid_field_key(std::string_view key) {
    if (key.empty()) return false;
    for (char c : key)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    for (auto r : kReservedKeys)
        if (key == r) return false;
    return true;
}

std::string format_time(std::int64_t unix_ms) {
    std::int64_t secs = unix_ms / 1000;
    std::int64_t ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    const auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    if (!gmtime_r(&t, &tm) || tm.tm_year < 70 || tm.tm_year > 9999 - 1900)
        fail(Errc::invalid_argument, "audit clock out of range: " + std::to_string(unix_ms) + " ms");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string sha256_hex(std::string_view bytes) { return ossl::hex(ossl::sha256(bytes.data(), bytes.size())); }

ParseResult parse_record(std::string_view line) {
    Reader rd(line);
    if (!rd.take('{')) return not_record("does not start with '{'");

    struct Member {
        std::string key;
        bool is_number = false;
        std::uint64_t number = 0;
        std::string text;
        std::size_t start = 0;  // offset of the ',' before the key (or of the key, for the first)
    };
    std::vector<Member> members;
    std::set<std::string, std::less<>> keys;
    if (!rd.take('}')) {
        do {
            Member m;
            m.start = members.empty() ? rd.pos() : rd.pos() - 1;
            if (!rd.string(m.key)) return not_record(rd.error());
            if (!rd.take(':')) {
                rd.set_error("expected ':'");
                return not_record(rd.error());
            }
            if (rd.peek_digit()) {
                m.is_number = true;
                if (!rd.integer(m.number)) return not_record(rd.error());
            } else if (!rd.string(m.text)) {
                return not_record(rd.error());
            }
            if (!keys.insert(m.key).second) return not_record("duplicate key \"" + m.key + "\"");
            members.push_back(std::move(m));
        } while (rd.take(','));
        if (!rd.take('}')) {
            rd.set_error("expected ',' or '}'");
            return not_record(rd.error());
        }
    }
    if (!rd.at_end()) {
        rd.set_error("trailing bytes after the object");
        return not_record(rd.error());
    }

    const std::size_t n = members.size();
    if (n < 5) return not_record("too few members");
    if (members[0].key != "seq" || !members[0].is_number) return not_record("first member is not an integer \"seq\"");
    if (members[1].key != "time" || members[1].is_number) return not_record("second member is not a string \"time\"");
    if (members[2].key != "event" || members[2].is_number) return not_record("third member is not a string \"event\"");
    for (std::size_t i = 3; i + 2 < n; ++i) {
        if (!valid_field_key(members[i].key)) return not_record("bad field key \"" + members[i].key + "\"");
        if (members[i].is_number) return not_record("field \"" + members[i].key + "\" is not a string");
    }
    const Member& prev = members[n - 2];
    const Member& hash = members[n - 1];
    if (prev.key != "prev" || prev.is_number || !lower_hex64(prev.text))
        return not_record("next-to-last member is not a 64-hex \"prev\"");
    if (hash.key != "hash" || hash.is_number || !lower_hex64(hash.text))
        return not_record("last member is not a 64-hex \"hash\"");
    if (line.substr(hash.start, kHashMember.size()) != kHashMember)
        return not_record("\"hash\" member not in canonical form");

    ParseResult r;
    r.ok = true;
    r.record.seq = members[0].number;
    r.record.prev = prev.text;
    r.record.hash = hash.text;
    r.record.hashed_len = hash.start;
    return r;
}

}  // namespace sfts::audit::detail
