// SASLprep (RFC 4013: RFC 3454 stringprep with NFKC, space mapping and a prohibited-character
// table) through gsasl_saslprep, which GNU SASL implements with GNU Libidn. Debian's libgsasl18
// is linked against libidn12, so this works at run time; the probe below proves it once.
#include <cstring>
#include <mutex>

#include "internal.hpp"
#include "sfts/auth/password_policy.hpp"
#include "sfts/error.hpp"

namespace sfts::auth {
namespace detail {

namespace {

// GNU SASL 2.2 hands libidn STRINGPREP_NO_UNASSIGNED when the caller passes
// GSASL_ALLOW_UNASSIGNED, i.e. the flag works inverted. Rather than rely on either behaviour,
// find out once which flag value accepts an unassigned code point (U+1F600, not in Unicode 3.2,
// the version stringprep uses): emoji and other newer characters must be accepted (NIST SP
// 800-63B rev 4 3.1.1.2: all Unicode characters).
struct Prep {
    bool available = false;
    Gsasl_saslprep_flags allow_unassigned = static_cast<Gsasl_saslprep_flags>(0);
};

const Prep& prep() {
    static const Prep p = [] {
        Prep r;
        const char* probe = "\xF0\x9F\x98\x80";
        for (int flag : {0, static_cast<int>(GSASL_ALLOW_UNASSIGNED)}) {
            char* out = nullptr;
            int rc = gsasl_saslprep(probe, static_cast<Gsasl_saslprep_flags>(flag), &out, nullptr);
            GsaslString owned(out);
            if (rc == GSASL_OK && out && std::strcmp(out, probe) == 0) {
                r.available = true;
                r.allow_unassigned = static_cast<Gsasl_saslprep_flags>(flag);
                return r;
            }
        }
        // Either SASLprep is missing (gsasl built without libidn) or it refuses all unassigned
        // code points; check that it works at all on an assigned one.
        char* out = nullptr;
        int rc = gsasl_saslprep("\xEF\xBD\x90", static_cast<Gsasl_saslprep_flags>(0), &out, nullptr);  // U+FF50
        GsaslString owned(out);
        r.available = rc == GSASL_OK && out && std::strcmp(out, "p") == 0;
        return r;
    }();
    return p;
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + n >= s.size()) return false;  // truncated sequence
        for (std::size_t k = 1; k <= n; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, range, surrogate
        i += n + 1;
    }
    return true;
}

bool saslprep(std::string_view in, std::string& out) {
    cleanse(out);
    if (in.find('\0') != std::string_view::npos || !valid_utf8(in)) return false;
    const Prep& p = prep();
    if (!p.available)
        fail(Errc::unavailable, "SASLprep is not available: GNU SASL was built without libidn");
    std::string z(in);  // NUL-terminated copy for the C API
    char* raw = nullptr;
    int rc = gsasl_saslprep(z.c_str(), p.allow_unassigned, &raw, nullptr);
    cleanse(z);
    GsaslString owned(raw);
    if (rc != GSASL_OK || !raw) return false;
    out.assign(raw);
    OPENSSL_cleanse(raw, std::strlen(raw));
    return true;
}

}  // namespace detail

Secret normalize_password(const Secret& password) {
    std::string out;
    bool ok = detail::saslprep(password.view(), out);
    if (!ok) {
        detail::cleanse(out);
        fail(Errc::invalid_argument,
             "contains a character that is not allowed (control, private-use or other prohibited character, "
             "or invalid UTF-8)");
    }
    Secret s(out);
    detail::cleanse(out);
    return s;
}

std::size_t count_code_points(std::string_view utf8) {
    std::size_t n = 0;
    for (char c : utf8)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace sfts::auth
