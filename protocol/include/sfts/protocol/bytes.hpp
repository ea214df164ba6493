// Byte vocabulary shared by the codec: owned buffers, views and fixed-size fields.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "sfts/protocol/limits.hpp"

namespace sfts::proto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

using CommandNonce = std::array<std::uint8_t, command_nonce_size>;
using EnrollNonce = std::array<std::uint8_t, enroll_nonce_size>;
using Sha256 = std::array<std::uint8_t, sha256_size>;
using Hmac = std::array<std::uint8_t, hmac_size>;

// Overwrites a buffer that held a password before it is released; the allocator would
// otherwise hand the bytes to the next owner of that memory.
void wipe(Bytes& b) noexcept;

}  // namespace sfts::proto
