// RFC 5802 section 3 key derivation, and the update_password proof (docs/protocol.md 4.5).
#include <openssl/evp.h>

#include <climits>

#include "internal.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/auth/password_policy.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::auth {

namespace {

constexpr std::uint32_t kMinIterations = 4096;  // RFC 7677 section 4
constexpr std::size_t kSaltBytes = 16;

std::span<const std::uint8_t> label(const char* s) { return detail::bytes_of(s); }

std::vector<std::uint8_t> pbkdf2(std::string_view normalized, std::span<const std::uint8_t> salt,
                                 std::uint32_t iterations) {
    if (iterations == 0 || iterations > static_cast<std::uint32_t>(INT_MAX))
        fail(Errc::invalid_argument, "PBKDF2 iteration count out of range");
    if (salt.empty() || salt.size() > INT_MAX) fail(Errc::invalid_argument, "SCRAM salt must not be empty");
    if (normalized.size() > INT_MAX) fail(Errc::invalid_argument, "password too long");
    std::vector<std::uint8_t> out(32);
    ossl::check(PKCS5_PBKDF2_HMAC(normalized.data(), static_cast<int>(normalized.size()), salt.data(),
                                  static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                                  static_cast<int>(out.size()), out.data()),
                "PKCS5_PBKDF2_HMAC");
    return out;
}

}  // namespace

std::vector<std::uint8_t> salted_password(const Secret& password, std::span<const std::uint8_t> salt,
                                          std::uint32_t iterations) {
    Secret normalized = normalize_password(password);
    return pbkdf2(normalized.view(), salt, iterations);
}

ScramVerifier make_verifier(const Secret& password, std::uint32_t iterations) {
    if (iterations < kMinIterations)
        fail(Errc::invalid_argument, "SCRAM iteration count below 4096 (RFC 7677 section 4)");
    ScramVerifier v;
    v.salt = random_bytes(kSaltBytes);
    v.iterations = iterations;
    std::vector<std::uint8_t> sp = salted_password(password, v.salt, iterations);
    detail::WipeOnExit wipe_sp(sp);
    auto client_key = hmac_sha256(sp, label("Client Key"));
    auto stored = detail::sha256(client_key);
    auto server = hmac_sha256(sp, label("Server Key"));
    v.stored_key.assign(stored.begin(), stored.end());
    v.server_key.assign(server.begin(), server.end());
    detail::cleanse(client_key);
    detail::cleanse(server);
    return v;
}

std::array<std::uint8_t, 32> password_change_proof(std::span<const std::uint8_t> salted,
                                                   std::span<const std::uint8_t> record) {
    if (salted.size() != 32) fail(Errc::invalid_argument, "SaltedPassword must be 32 bytes");
    auto client_key = hmac_sha256(salted, label("Client Key"));
    auto stored = detail::sha256(client_key);
    auto signature = hmac_sha256(stored, record);
    std::array<std::uint8_t, 32> proof{};
    for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
    detail::cleanse(client_key);
    return proof;
}

bool verify_password_change_proof(const ScramVerifier& v, std::span<const std::uint8_t> record,
                                  std::span<const std::uint8_t, 32> proof) {
    if (v.stored_key.size() != 32) return false;
    auto signature = hmac_sha256(v.stored_key, record);
    std::array<std::uint8_t, 32> client_key{};
    for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] = proof[i] ^ signature[i];
    auto candidate = detail::sha256(client_key);
    detail::cleanse(client_key);
    return equal_constant_time(candidate, v.stored_key);
}

}  // namespace sfts::auth
