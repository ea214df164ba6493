// NIST SP 800-63B rev. 4, 3.1.1.2: length in code points after normalisation, no composition
// rules, no truncation, and a blocklist of common, breached and context-specific values
// (built-in top list, the admin's file, cracklib's dictionary through libpwquality).
#include "sfts/auth/password_policy.hpp"

#include <pwquality.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>

#include "internal.hpp"
#include "sfts/error.hpp"

namespace sfts::auth {

namespace {

constexpr const char* kCommon = "is on the list of common or breached passwords";
constexpr const char* kSequence = "repeats or runs in sequence (e.g. aaaa, 1234, abcd)";
constexpr const char* kDecorated = "is a common password with digits, symbols or look-alike letters added";
// cracklib's compiled default (crack.h is not installed by libcrack2, so it is spelled here);
// Debian's cracklib-runtime builds it from /usr/share/dict/cracklib-small at install time.
constexpr const char* kCracklibDict = "/var/cache/cracklib/cracklib_dict";

// The most common passwords of at least 8 characters from public breach corpora (shorter ones
// fail the length rule anyway). Kept free of pure runs and repeats so that those get the more
// specific reason.
constexpr std::string_view kTopPasswords[] = {
    "password", "12345678", "123456789", "1234567890", "qwertyuiop", "iloveyou", "sunshine", "football",
    "baseball", "princess", "superman", "trustno1", "welcome1", "password1", "password123", "qwerty123",
    "1q2w3e4r", "1qaz2wsx", "zaq12wsx", "qwertyui", "asdfghjk", "asdfghjkl", "letmein1", "michelle",
    "jennifer", "computer", "starwars", "whatever", "dragon12", "master12", "passw0rd", "p@ssw0rd",
    "admin123", "administrator", "changeme", "abc12345", "123123123", "987654321", "1q2w3e4r5t",
    "qwerty12", "q1w2e3r4", "12qwaszx", "michael1", "charlie1", "password!", "welcome123", "iloveyou1",
    "football1", "baseball1", "mustang1", "shadow12", "monkey12", "qazwsxedc", "zxcvbnm1", "zxcvbnm123",
    "123qweasd", "1qazxsw2", "passwort", "motdepasse", "letmein123"};

// Words that, with digits, symbols or look-alike letters around or inside them, make the
// passwords people pick first ("Summer2023!", "P@ssw0rd1", "qwerty2024"). Checked only as the
// whole core of a password, see common_core().
constexpr std::string_view kCommonWords[] = {
    "password", "passwort", "motdepasse", "qwerty", "qwertz", "azerty", "welcome", "letmein", "iloveyou",
    "admin", "administrator", "root", "login", "master", "secret", "changeme", "default", "guest", "test",
    "summer", "winter", "spring", "autumn", "monkey", "dragon", "shadow", "sunshine", "football", "baseball",
    "soccer", "hockey", "princess", "superman", "batman", "starwars", "pokemon", "trustno1", "whatever",
    "freedom", "hello", "michael", "charlie", "jordan", "hunter", "ranger", "killer", "computer", "internet",
    "abc123", "asdf", "zxcvbnm"};

template <typename List>
bool listed(const List& list, std::string_view s) {
    return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

bool decoration(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x80 && !(c >= 'a' && c <= 'z');  // ASCII digit, punctuation or space
}

std::string undo_lookalikes(std::string_view s, char one) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '0': out += 'o'; break;
            case '1': out += one; break;
            case '!': out += 'i'; break;
            case '3': out += 'e'; break;
            case '4': case '@': out += 'a'; break;
            case '5': case '$': out += 's'; break;
            case '7': case '+': out += 't'; break;
            default: out += c;
        }
    }
    return out;
}

// Reason if the password is a common word with decoration: leading and/or trailing digits,
// punctuation and spaces removed, look-alikes undone ("P@ssw0rd2024!" -> "password").
const char* common_core(std::string_view lower) {
    std::size_t b = 0, e = lower.size();
    while (b < e && decoration(lower[b])) ++b;
    while (e > b && decoration(lower[e - 1])) --e;
    const std::string_view cores[] = {lower.substr(b, e - b), lower.substr(0, e), lower.substr(b)};
    for (std::string_view core : cores) {
        for (char one : {'i', 'l'}) {
            std::string plain = undo_lookalikes(core, one);
            bool hit = plain.size() >= 4 && (listed(kCommonWords, plain) || listed(kTopPasswords, plain));
            detail::cleanse(plain);
            if (hit) return core == lower ? kCommon : kDecorated;
        }
    }
    return nullptr;
}

using PwqPtr = std::unique_ptr<pwquality_settings_t, detail::CDeleter<pwquality_free_settings>>;

// cracklib keeps the open dictionary in static variables: one check at a time per process.
std::mutex& cracklib_mutex() {
    static std::mutex m;
    return m;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Lower-cases ASCII letters only: enough for comparing with the lists and names, which are
// compared after NFKC, and safe for any UTF-8.
std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

struct WipedString {
    std::string s;
    WipedString() = default;
    explicit WipedString(std::string v) : s(std::move(v)) {}
    WipedString(const WipedString&) = delete;
    WipedString& operator=(const WipedString&) = delete;
    ~WipedString() { detail::cleanse(s); }
};

std::vector<std::uint32_t> code_points(std::string_view s) {
    std::vector<std::uint32_t> out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
        std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1Fu) : n == 2 ? (c & 0x0Fu) : (c & 0x07u);
        for (std::size_t k = 1; k <= n && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
        out.push_back(cp);
        i += n + 1;
    }
    return out;
}

// True if the text is a short unit repeated ("aaaaaaaa", "abababab", "abcdabcd") or made of at
// most two runs of constant step -1, 0 or +1 ("12345678", "87654321", "1234abcd", "aaaa1111").
bool repetitive_or_sequential(const std::vector<std::uint32_t>& cps) {
    const std::size_t n = cps.size();
    if (n < 2) return false;
    for (std::size_t unit = 1; unit <= 4 && unit * 2 <= n; ++unit) {
        bool repeats = true;
        for (std::size_t i = unit; i < n && repeats; ++i) repeats = cps[i] == cps[i - unit];
        if (repeats) return true;
    }
    std::size_t runs = 0;
    for (std::size_t i = 0; i < n;) {
        ++runs;
        if (i + 1 >= n) break;
        auto step = static_cast<std::int64_t>(cps[i + 1]) - static_cast<std::int64_t>(cps[i]);
        if (step < -1 || step > 1) {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        while (j + 1 < n && static_cast<std::int64_t>(cps[j + 1]) - static_cast<std::int64_t>(cps[j]) == step) ++j;
        i = j + 1;
    }
    return runs <= 2;
}

std::string plural(std::size_t n) { return std::to_string(n) + (n == 1 ? " character" : " characters"); }

}  // namespace

struct PasswordPolicy::Impl {
    PasswordPolicyOptions opts;
    std::string service_lower;
    PwqPtr pwq;
    mutable std::shared_mutex list_mutex;
    std::shared_ptr<const std::unordered_set<std::string>> admin_list =
        std::make_shared<const std::unordered_set<std::string>>();

    std::shared_ptr<const std::unordered_set<std::string>> current_list() const {
        std::shared_lock lock(list_mutex);
        return admin_list;
    }

    void load_list() {
        auto fresh = std::make_shared<std::unordered_set<std::string>>();
        if (!opts.blocklist_file.empty()) {
            std::ifstream in(opts.blocklist_file, std::ios::binary);
            if (!in) fail(Errc::io, "cannot read password blocklist " + opts.blocklist_file);
            std::string line;
            while (std::getline(in, line)) {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (line.empty() || line.front() == '#') continue;
                std::string prepped;
                // An entry that is not valid SASLprep input can never match a normalised
                // password; compare it raw all the same.
                if (!detail::saslprep(line, prepped)) prepped = line;
                fresh->insert(ascii_lower(prepped));
            }
            if (in.bad()) fail(Errc::io, "error reading password blocklist " + opts.blocklist_file);
        }
        std::unique_lock lock(list_mutex);
        admin_list = std::move(fresh);
    }

    void init_pwquality() {
        pwq.reset(pwquality_default_settings());
        if (!pwq) fail(Errc::internal, "pwquality_default_settings failed");
        // pwquality only for its cracklib dictionary check: no composition or other rules of its own.
        const std::pair<int, int> settings[] = {
            {PWQ_SETTING_MIN_LENGTH, 6},  // its floor; our own length rule runs first
            {PWQ_SETTING_DIFF_OK, 0},          {PWQ_SETTING_DIG_CREDIT, 0},  {PWQ_SETTING_UP_CREDIT, 0},
            {PWQ_SETTING_LOW_CREDIT, 0},       {PWQ_SETTING_OTH_CREDIT, 0},  {PWQ_SETTING_MIN_CLASS, 0},
            {PWQ_SETTING_MAX_REPEAT, 0},       {PWQ_SETTING_MAX_CLASS_REPEAT, 0},
            {PWQ_SETTING_MAX_SEQUENCE, 0},     {PWQ_SETTING_GECOS_CHECK, 0}, {PWQ_SETTING_USER_CHECK, 0},
            {PWQ_SETTING_DICT_CHECK, 1},       {PWQ_SETTING_ENFORCING, 1},
        };
        for (auto [setting, value] : settings)
            if (pwquality_set_int_value(pwq.get(), setting, value) != 0)
                fail(Errc::internal, "pwquality_set_int_value(" + std::to_string(setting) + ") failed");
        if (!file_exists(std::string(kCracklibDict) + ".pwd") || !file_exists(std::string(kCracklibDict) + ".pwi") ||
            !file_exists(std::string(kCracklibDict) + ".hwm"))
            fail(Errc::unavailable, std::string("cracklib dictionary missing: ") + kCracklibDict +
                                        ".{pwd,pwi,hwm} (Debian package cracklib-runtime)");
    }

    // Returns a reason, or empty if cracklib accepts the password.
    std::string cracklib_reason(const std::string& normalized) const {
        void* aux = nullptr;
        int rc;
        char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
        std::string aux_text;
        {
            std::lock_guard lock(cracklib_mutex());
            rc = pwquality_check(pwq.get(), normalized.c_str(), nullptr, nullptr, &aux);
            if (rc == PWQ_ERROR_CRACKLIB_CHECK && aux) aux_text = static_cast<const char*>(aux);
            // Also frees aux where pwquality allocated it.
            const char* text = pwquality_strerror(buf, sizeof buf, rc, aux);
            if (rc == PWQ_ERROR_CRACKLIB_CHECK && aux_text.empty() && text) aux_text = text;
        }
        if (rc >= 0) return {};
        if (rc == PWQ_ERROR_CRACKLIB_CHECK) {
            if (aux_text.find("error loading dictionary") != std::string::npos)
                fail(Errc::unavailable, "cracklib dictionary cannot be loaded: " + aux_text);
            if (aux_text.find("dictionary") != std::string::npos) return kCommon;
            if (aux_text.find("simplistic") != std::string::npos || aux_text.find("DIFFERENT") != std::string::npos)
                return kSequence;
            return std::string("is too easy to guess (") + aux_text + ")";
        }
        if (rc == PWQ_ERROR_MEM_ALLOC || rc == PWQ_ERROR_FATAL_FAILURE)
            fail(Errc::internal, "pwquality_check failed");
        // Palindrome and the like: pwquality rules we do not impose (no composition rules).
        return {};
    }
};

PasswordPolicy::PasswordPolicy(PasswordPolicyOptions opts) : impl_(std::make_unique<Impl>()) {
    if (opts.min_length == 0 || opts.max_length < opts.min_length || opts.max_length < 64)
        fail(Errc::invalid_argument, "password policy: need 0 < min_length <= max_length and max_length >= 64");
    impl_->opts = std::move(opts);
    std::string service;
    if (!detail::saslprep(impl_->opts.service_name, service)) service = impl_->opts.service_name;
    impl_->service_lower = ascii_lower(service);
    if (impl_->opts.use_cracklib) impl_->init_pwquality();
    impl_->load_list();
}

PasswordPolicy::~PasswordPolicy() = default;
PasswordPolicy::PasswordPolicy(PasswordPolicy&&) noexcept = default;
PasswordPolicy& PasswordPolicy::operator=(PasswordPolicy&&) noexcept = default;

void PasswordPolicy::reload() { impl_->load_list(); }

void PasswordPolicy::check(const Secret& password, std::string_view username) const {
    const Impl& m = *impl_;
    // The reasons are predicates ("is on the list of ...", "too short: ..."): the message names
    // its subject, since it reaches the user as "server: the new password is ...".
    auto reject = [](const std::string& reason) {
        fail(Errc::invalid_argument, "the new password " + std::string(reason.rfind("too ", 0) == 0 ? "is " : "") + reason);
    };
    // A cheap bound before normalising: a code point is at most 4 bytes, and NFKC can grow text
    // only a little.
    if (password.size() > 4 * m.opts.max_length + 16)
        reject("too long: more than " + plural(m.opts.max_length) + ", at most " + std::to_string(m.opts.max_length));
    WipedString normalized(std::string(normalize_password(password).view()));
    WipedString lower(ascii_lower(normalized.s));

    if (!m.service_lower.empty() && lower.s == m.service_lower) reject("is the service name");

    const std::size_t length = count_code_points(normalized.s);
    if (length < m.opts.min_length)
        reject("too short: " + plural(length) + ", at least " + std::to_string(m.opts.min_length));
    if (length > m.opts.max_length)
        reject("too long: " + plural(length) + ", at most " + std::to_string(m.opts.max_length));

    std::string user;
    if (!detail::saslprep(username, user)) user = std::string(username);
    user = ascii_lower(user);
    if (count_code_points(user) >= 3 && lower.s.find(user) != std::string::npos) reject("contains the user name");

    if (!m.service_lower.empty() && lower.s.find(m.service_lower) != std::string::npos) {
        // "sfts2024", "Sfts!!!!": the service name plus too little else.
        WipedString rest(lower.s);
        for (std::size_t at; (at = rest.s.find(m.service_lower)) != std::string::npos;)
            rest.s.erase(at, m.service_lower.size());
        if (count_code_points(rest.s) < m.opts.min_length) reject("contains the service name");
    }

    if (listed(kTopPasswords, lower.s)) reject(kCommon);
    if (m.current_list()->contains(lower.s)) reject(kCommon);

    if (repetitive_or_sequential(code_points(lower.s))) reject(kSequence);
    if (const char* why = common_core(lower.s)) reject(why);

    if (m.opts.use_cracklib) {
        std::string reason = m.cracklib_reason(normalized.s);
        if (!reason.empty()) reject(reason);
    }
}

}  // namespace sfts::auth
