// One error vocabulary for the whole project (docs/conventions.md §5).
// Untrusted input yields an Error of some kind; a broken invariant aborts.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sfts {

enum class Errc : std::uint8_t {
    ok = 0,
    invalid_argument,   // malformed or out-of-policy input from a user or peer
    not_found,          // file, user, token, object, key absent
    already_exists,     // refuse to overwrite
    permission_denied,  // RBAC or filesystem refusal
    auth_failed,        // wrong PIN, password, HMAC proof, certificate
    integrity,          // hash or signature mismatch, tampering
    token,              // PKCS#11 module or token failure
    crypto,             // OpenSSL failure not caused by the input
    io,                 // filesystem, socket, database
    limit_exceeded,     // size, count, rate, quota
    protocol,           // wire format violation
    timeout,            // a deadline passed
    unavailable,        // a dependency is down or not configured
    internal,           // a bug: should never reach a user
};

// Stable lower-case name of an error kind, used in logs and on the wire.
std::string_view errc_name(Errc e) noexcept;

// Process exit code for a command-line tool that fails with this kind.
// 0 is success, 1 is reserved for usage errors; kinds map to 2..15.
int exit_code(Errc e) noexcept;

class Error : public std::runtime_error {
public:
    Error(Errc kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Errc kind() const noexcept { return kind_; }

private:
    Errc kind_;
};

[[noreturn]] inline void fail(Errc kind, const std::string& message) { throw Error(kind, message); }

// Aborts with a message: for broken invariants only, never for bad input.
[[noreturn]] void invariant_failed(const char* expr, const char* file, int line) noexcept;

}  // namespace sfts

#define SFTS_INVARIANT(cond) \
    ((cond) ? static_cast<void>(0) : ::sfts::invariant_failed(#cond, __FILE__, __LINE__))
