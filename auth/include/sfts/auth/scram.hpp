// SCRAM-SHA-256(-PLUS) login (RFC 5802, RFC 7677, channel binding tls-exporter RFC 9266) driven
// by GNU SASL, and the update_password proof of docs/protocol.md 4.5 built from the same keys.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/auth/verifier.hpp"
#include "sfts/secret.hpp"

namespace sfts::auth {

// Creates a verifier: 16 random salt bytes, PBKDF2-HMAC-SHA256 with `iterations`,
// ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = SHA256(ClientKey),
// ServerKey = HMAC(SaltedPassword, "Server Key"). The password is normalised first
// (normalize_password, password_policy.hpp). Error(invalid_argument) for a prohibited password,
// Error(invalid_argument) for iterations < 4096 (RFC 7677 section 4 minimum).
ScramVerifier make_verifier(const Secret& password, std::uint32_t iterations = kDefaultScramIterations);

inline constexpr const char* kMechanism = "SCRAM-SHA-256";
inline constexpr const char* kMechanismPlus = "SCRAM-SHA-256-PLUS";

// Server side of one SCRAM-SHA-256(-PLUS) exchange, driven by GNU SASL from the stored verifier.
// One object per login attempt; not shared between threads (many objects may run at once).
class ScramServer {
public:
    using Lookup = std::function<std::optional<ScramVerifier>(const std::string& username)>;
    // channel_binding: the TLS exporter value of this connection (32 bytes), required. The server
    //   offers PLUS, refuses a client that says it supports binding but chose the non-PLUS
    //   mechanism (gs2 flag "y": downgrade, RFC 5802 section 6) and refuses PLUS with a wrong
    //   binding.
    // decoy_key: server secret (>= 16 bytes) for a deterministic fake verifier for unknown users,
    //   so an unknown user looks like a wrong password (same messages, stable salt, same failure).
    // decoy_iterations: the decoy's iteration count; pass the count new verifiers are made with
    //   (the configured one), so that an unknown user shows the same i= as real accounts.
    // lookup runs inside client_first(), on the calling thread, with the SASLprepped user name;
    //   an exception it throws propagates out of client_first() as is. Error(invalid_argument) for an
    //   empty lookup, empty or > 64-byte channel_binding, a short decoy_key or decoy_iterations < 4096.
    ScramServer(Lookup lookup, std::vector<std::uint8_t> channel_binding, std::vector<std::uint8_t> decoy_key,
                std::uint32_t decoy_iterations = kDefaultScramIterations);
    ~ScramServer();
    ScramServer(const ScramServer&) = delete;
    ScramServer& operator=(const ScramServer&) = delete;

    // mechanism must be kMechanism or kMechanismPlus. Returns server-first-message.
    // Error(auth_failed) for a malformed message or a mechanism mismatch (also for an authzid
    // "a=", extensions, or more than 4096 bytes); Error(integrity) if the stored verifier is malformed.
    std::vector<std::uint8_t> client_first(std::string_view mechanism, std::span<const std::uint8_t> message);
    // Returns server-final-message; Error(auth_failed, "authentication failed") on a wrong proof
    // (also for unknown users).
    std::vector<std::uint8_t> client_final(std::span<const std::uint8_t> message);
    const std::string& username() const;    // authcid from client-first (after SASLprep)
    bool channel_bound() const;             // PLUS with verified binding
    const ScramVerifier& verifier() const;  // the one used (for update_password proof checks)

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Client side, also via GNU SASL.
class ScramClient {
public:
    // channel_binding empty: plain SCRAM-SHA-256 with gs2 flag "n"; else PLUS with tls-exporter.
    ScramClient(std::string username, const Secret& password, std::vector<std::uint8_t> channel_binding);
    ~ScramClient();
    ScramClient(const ScramClient&) = delete;
    ScramClient& operator=(const ScramClient&) = delete;

    const char* mechanism() const;
    std::vector<std::uint8_t> client_first();
    // Error(auth_failed) if server_first is malformed.
    std::vector<std::uint8_t> client_final(std::span<const std::uint8_t> server_first);
    // Error(auth_failed) if the server's signature is wrong: a fake server is detected.
    void verify_server_final(std::span<const std::uint8_t> server_final);
    // Available after client_final(): what the update_password proof needs. Wiped in the destructor.
    const std::vector<std::uint8_t>& salted_password() const;
    // The salt and iteration count of the server-first message, also after client_final(): a
    // password typed again later can be checked by the server the same way (update_password).
    const std::vector<std::uint8_t>& salt() const;
    std::uint32_t iterations() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// docs/protocol.md 4.5: old_proof = ClientKey XOR HMAC(StoredKey, record),
// ClientKey = HMAC(SaltedPassword, "Client Key").
std::array<std::uint8_t, 32> password_change_proof(std::span<const std::uint8_t> salted_password,
                                                   std::span<const std::uint8_t> record);
// Recomputes; constant-time comparison; true iff SHA256(proof XOR HMAC(StoredKey, record)) == StoredKey.
bool verify_password_change_proof(const ScramVerifier& v, std::span<const std::uint8_t> record,
                                  std::span<const std::uint8_t, 32> proof);
// SaltedPassword = PBKDF2-HMAC-SHA256(normalize_password(password), salt, iterations), 32 bytes.
// The caller wipes the result (OPENSSL_cleanse) when done.
std::vector<std::uint8_t> salted_password(const Secret& password, std::span<const std::uint8_t> salt,
                                          std::uint32_t iterations);

}  // namespace sfts::auth
