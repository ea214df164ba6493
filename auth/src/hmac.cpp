#include "sfts/auth/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>

#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::auth {

namespace {
// OpenSSL treats a NULL key as "keep the previous key"; give it a real pointer even when empty.
const unsigned char kEmpty[1] = {0};
const unsigned char* nonnull(std::span<const std::uint8_t> s) { return s.empty() ? kEmpty : s.data(); }
}  // namespace

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    if (key.size() > INT_MAX) fail(Errc::invalid_argument, "HMAC key too long");
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), nonnull(key), static_cast<int>(key.size()), nonnull(data), data.size(), out.data(), &len) ||
        len != out.size())
        ossl::fail_ossl(Errc::crypto, "HMAC-SHA256");
    return out;
}

bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    if (n > INT_MAX) fail(Errc::invalid_argument, "too many random bytes requested");
    if (n > 0) ossl::check(RAND_bytes(out.data(), static_cast<int>(n)), "RAND_bytes");
    return out;
}

}  // namespace sfts::auth
