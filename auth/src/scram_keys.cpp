// RFC 5802 section 3 key derivation, and the update_password proof (docs/protocol.md 4.5).
#include <nettle/hmac.h>
#include <nettle/pbkdf2.h>
#include <openssl/crypto.h>

#include <climits>

#include "internal.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/auth/password_policy.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/error.hpp"

namespace sfts::auth {

namespace {

constexpr std::uint32_t kMinIterations = 4096;  // RFC 7677 section 4
constexpr std::size_t kSaltBytes = 16;

std::span<const std::uint8_t> label(const char* s) { return detail::bytes_of(s); }

// Clears the stack below the caller: Nettle's pbkdf2() keeps its running block sums (U_i, T)
// in locals it does not wipe. Our own HMAC context, holding the password-derived pad states,
// is wiped explicitly.
[[gnu::noinline]] void scrub_stack() {
    volatile unsigned char pad[4096];
    OPENSSL_cleanse(const_cast<unsigned char*>(pad), sizeof pad);
}

void mac_update(void* ctx, std::size_t n, const std::uint8_t* data) {
    hmac_sha256_update(static_cast<struct hmac_sha256_ctx*>(ctx), n, data);
}
void mac_digest(void* ctx, std::size_t n, std::uint8_t* out) {
    hmac_sha256_digest(static_cast<struct hmac_sha256_ctx*>(ctx), n, out);
}

// SaltedPassword := Hi(password, salt, i), RFC 5802 section 2.2, which is PBKDF2 with
// HMAC-SHA-256 (RFC 8018 section 5.2) and one output block. Nettle hashes the HMAC pads once
// and then does two SHA-256 compressions per iteration; OpenSSL 3's PKCS5_PBKDF2_HMAC copies
// provider contexts every iteration and spends 3.5 times the CPU, at a login's 600 000
// iterations most of the time a client takes to connect. The tests compare the two.
std::vector<std::uint8_t> hi(std::string_view normalized, std::span<const std::uint8_t> salt,
                                 std::uint32_t iterations) {
    if (iterations == 0 || iterations > static_cast<std::uint32_t>(INT_MAX))
        fail(Errc::invalid_argument, "PBKDF2 iteration count out of range");
    if (salt.empty() || salt.size() > INT_MAX) fail(Errc::invalid_argument, "SCRAM salt must not be empty");
    if (normalized.size() > INT_MAX) fail(Errc::invalid_argument, "password too long");
    std::vector<std::uint8_t> out(SHA256_DIGEST_SIZE);
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, normalized.size(), reinterpret_cast<const std::uint8_t*>(normalized.data()));
    pbkdf2(&ctx, mac_update, mac_digest, SHA256_DIGEST_SIZE, iterations, salt.size(), salt.data(), out.size(),
           out.data());
    OPENSSL_cleanse(&ctx, sizeof ctx);
    scrub_stack();
    return out;
}

}  // namespace

std::vector<std::uint8_t> salted_password(const Secret& password, std::span<const std::uint8_t> salt,
                                          std::uint32_t iterations) {
    Secret normalized = normalize_password(password);
    return hi(normalized.view(), salt, iterations);
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
