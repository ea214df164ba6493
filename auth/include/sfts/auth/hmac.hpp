// Small OpenSSL-backed primitives shared by SCRAM, the password-change proof and the enrollment
// HMAC proofs (docs/protocol.md 4.5 and 8).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sfts::auth {

// HMAC-SHA256(key, data). Error(crypto) only if OpenSSL itself fails.
std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

// Constant-time comparison (CRYPTO_memcmp); false on a length mismatch (lengths are not secret).
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// n bytes from OpenSSL's CSPRNG (RAND_bytes). Error(crypto) if the generator fails.
std::vector<std::uint8_t> random_bytes(std::size_t n);

}  // namespace sfts::auth
