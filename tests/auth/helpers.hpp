// Small helpers for the auth tests: byte/string conversion and base64 through OpenSSL directly,
// so that the expectations do not depend on the library's own encoders.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/error.hpp"

namespace sfts {
// Lets Boost.Test print error kinds in failed comparisons.
inline std::ostream& operator<<(std::ostream& os, Errc e) { return os << errc_name(e); }
}  // namespace sfts

namespace sfts::test::auth {

inline std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
inline std::string text(std::span<const std::uint8_t> b) { return {b.begin(), b.end()}; }

inline std::string b64(std::span<const std::uint8_t> data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

inline std::vector<std::uint8_t> unb64(std::string_view s) {
    std::vector<std::uint8_t> out(s.size() / 4 * 3 + 3);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    if (n < 0) throw std::runtime_error("bad base64 in test");
    std::size_t pad = s.ends_with("==") ? 2 : s.ends_with("=") ? 1 : 0;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

inline std::vector<std::uint8_t> unhex(std::string_view h) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

}  // namespace sfts::test::auth
