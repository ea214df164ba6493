// Every size the wire codec accepts, in one place. A length on the wire is checked against
// the bytes actually left and against one of these before anything is allocated, so a peer
// cannot make us reserve memory by lying about a length (docs/conventions.md §2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sfts::proto {

// "SFTS" opens both hellos so a client talking to the wrong port fails at once.
inline constexpr std::array<std::uint8_t, 4> protocol_magic{0x53, 0x46, 0x54, 0x53};
inline constexpr std::uint16_t protocol_version = 1;

// 4-byte body length + 1-byte message type.
inline constexpr std::size_t frame_header_size = 5;

// A transfer moves in chunks so neither side ever holds a whole file in memory.
inline constexpr std::size_t max_chunk = std::size_t{1} << 20;
// The largest message is a chunk; the slack leaves room for any other message's fields.
inline constexpr std::size_t max_frame_body = max_chunk + 64 * 1024;

// NAME_MAX on Linux: a stored name must be a single directory entry.
inline constexpr std::size_t max_filename_bytes = 255;
inline constexpr std::size_t max_user_bytes = 64;
inline constexpr std::size_t max_token_id_bytes = 128;
inline constexpr std::size_t max_message_text = 1024;
inline constexpr std::size_t max_password_bytes = 1024;
// RFC 4422 section 3.1: a SASL mechanism name is 1 to 20 characters.
inline constexpr std::size_t max_mechanism_bytes = 20;
// SCRAM messages are short; a nonce, salt and proof fit in a fraction of this.
inline constexpr std::size_t max_sasl_bytes = 4096;
inline constexpr std::size_t max_cert_bytes = 16 * 1024;  // a certificate or a CSR, DER
// RSA-8192 is 1024 bytes; the product signs with RSA-3072 (384 bytes).
inline constexpr std::size_t max_signature_bytes = 1024;
inline constexpr std::size_t max_list_entries = 1000;
// A batch upload (docs/protocol.md 4.4): files per batch, and the largest file a batch carries,
// which is one batch_file frame (a 255-byte name and its prefix fit the frame's slack).
inline constexpr std::size_t max_batch_files = 4096;
inline constexpr std::size_t max_batch_file_bytes = max_chunk;
inline constexpr std::size_t max_help_commands = 32;
inline constexpr std::size_t max_command_name_bytes = 32;

inline constexpr std::size_t command_nonce_size = 16;
inline constexpr std::size_t enroll_nonce_size = 32;
inline constexpr std::size_t sha256_size = 32;
inline constexpr std::size_t hmac_size = 32;  // HMAC-SHA256 output

}  // namespace sfts::proto
