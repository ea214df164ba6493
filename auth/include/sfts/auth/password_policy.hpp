// Password rules after NIST SP 800-63B rev. 4, section 3.1.1.2: a minimum length counted in
// code points, a generous maximum, no composition rules, and a check against common, breached
// and context-specific passwords (cracklib dictionary, an admin list, the user and service names).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "sfts/secret.hpp"

namespace sfts::auth {

struct PasswordPolicyOptions {
    std::size_t min_length = 8;
    std::size_t max_length = 256;
    std::string service_name = "sfts";
    std::string blocklist_file;  // extra admin list, one password per line; may be empty (none)
    bool use_cracklib = true;
};

// Thread-safe: check() may run from many threads while reload() runs from another.
class PasswordPolicy {
public:
    explicit PasswordPolicy(PasswordPolicyOptions opts = {});
    ~PasswordPolicy();
    PasswordPolicy(PasswordPolicy&&) noexcept;
    PasswordPolicy& operator=(PasswordPolicy&&) noexcept;

    // Throws Error(invalid_argument, reason), reason a human sentence such as
    // "too short: 5 characters, at least 8", "contains the user name", "is the service name",
    // "is on the list of common or breached passwords",
    // "repeats or runs in sequence (e.g. aaaa, 1234, abcd)".
    // Length is counted in Unicode code points after normalization; never truncated; printable
    // ASCII, space and Unicode accepted; no composition rules.
    // Error(unavailable) if use_cracklib and the cracklib dictionary is missing.
    void check(const Secret& password, std::string_view username) const;
    // Re-reads the blocklist file (SIGHUP). Error(io) if it cannot be read; the old list stays.
    void reload();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// SASLprep (RFC 4013, NFKC-based stringprep profile) via GNU SASL's gsasl_saslprep, applied
// before hashing and counting. Error(invalid_argument) for prohibited characters (control
// characters, unassigned code points, bidi violations) or invalid UTF-8.
Secret normalize_password(const Secret& password);

// Number of Unicode code points in valid UTF-8 text.
std::size_t count_code_points(std::string_view utf8);

}  // namespace sfts::auth
