#include "sfts/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace sfts {

std::string_view errc_name(Errc e) noexcept {
    switch (e) {
        case Errc::ok: return "ok";
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::not_found: return "not_found";
        case Errc::already_exists: return "already_exists";
        case Errc::permission_denied: return "permission_denied";
        case Errc::auth_failed: return "auth_failed";
        case Errc::integrity: return "integrity";
        case Errc::token: return "token";
        case Errc::crypto: return "crypto";
        case Errc::io: return "io";
        case Errc::limit_exceeded: return "limit_exceeded";
        case Errc::protocol: return "protocol";
        case Errc::timeout: return "timeout";
        case Errc::unavailable: return "unavailable";
        case Errc::internal: return "internal";
    }
    return "unknown";
}

int exit_code(Errc e) noexcept {
    // Distinct, stable codes so scripts can branch on the kind of failure.
    return e == Errc::ok ? 0 : 1 + static_cast<int>(e);
}

void invariant_failed(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "sfts: invariant failed: %s at %s:%d\n", expr, file, line);
    std::abort();
}

}  // namespace sfts
