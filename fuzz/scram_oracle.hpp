// An independent SCRAM-SHA-256 (RFC 5802 section 3) for the SCRAM harnesses: the keys, proof
// and signature computed here from the password, so the harness can both reach the deep parts of
// GNU SASL's parser (by filling in the one value a fuzzer cannot guess) and check its verdict.
#pragma once

#include <openssl/sha.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "internal.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/auth/scram.hpp"

namespace sfts::fuzz::scram {

inline constexpr std::string_view kUser = "user";
inline constexpr std::string_view kPassword = "pencil-and-paper";
inline constexpr std::uint32_t kIterations = 4096;

struct Keys {
    std::vector<std::uint8_t> salted, client_key, stored_key, server_key;
};

inline std::vector<std::uint8_t> hmac(std::span<const std::uint8_t> k, std::string_view d) {
    auto m = auth::hmac_sha256(k, auth::detail::bytes_of(d));
    return {m.begin(), m.end()};
}

inline Keys keys_from(std::vector<std::uint8_t> salted) {
    Keys k;
    k.salted = std::move(salted);
    k.client_key = hmac(k.salted, "Client Key");
    k.stored_key.resize(32);
    SHA256(k.client_key.data(), k.client_key.size(), k.stored_key.data());
    k.server_key = hmac(k.salted, "Server Key");
    return k;
}

inline std::string client_proof(const Keys& k, std::string_view auth_message) {
    auto sig = hmac(k.stored_key, auth_message);
    std::vector<std::uint8_t> proof(32);
    for (std::size_t i = 0; i < 32; ++i) proof[i] = static_cast<std::uint8_t>(k.client_key[i] ^ sig[i]);
    return auth::detail::base64_encode(proof);
}

inline std::string server_signature(const Keys& k, std::string_view auth_message) {
    return auth::detail::base64_encode(hmac(k.server_key, auth_message));
}

// Value of attribute `name` in a comma-separated SCRAM message; empty when absent.
inline std::string attr(std::string_view msg, char name) {
    const std::string key = std::string(1, name) + "=";
    std::size_t pos = 0;
    while (pos <= msg.size()) {
        std::size_t end = msg.find(',', pos);
        if (end == std::string_view::npos) end = msg.size();
        auto field = msg.substr(pos, end - pos);
        if (field.starts_with(key)) return std::string(field.substr(2));
        pos = end + 1;
    }
    return {};
}

// Replaces every occurrence of `from` in s.
inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

}  // namespace sfts::fuzz::scram
