// What the server keeps of a password (RFC 5802 section 3): salt, iteration count, StoredKey
// and ServerKey. Never the password, nor SaltedPassword or ClientKey, which would let a thief
// of the database log in.
#pragma once

#include <cstdint>
#include <vector>

namespace sfts::auth {

inline constexpr std::uint32_t kDefaultScramIterations = 600000;  // OWASP 2023 for PBKDF2-HMAC-SHA256

struct ScramVerifier {
    std::vector<std::uint8_t> salt;        // 16 random bytes
    std::uint32_t iterations = kDefaultScramIterations;
    std::vector<std::uint8_t> stored_key;  // SHA-256(ClientKey), 32 bytes
    std::vector<std::uint8_t> server_key;  // HMAC(SaltedPassword, "Server Key"), 32 bytes
    bool operator==(const ScramVerifier&) const = default;
};

}  // namespace sfts::auth
