// The line format of the audit log: how a record is written and how one line is read back.
// Internal to sfts_audit; the format itself is documented in audit_log.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sfts::audit::detail {

// Appends s as the inside of a JSON string (no quotes) with the escaping of audit_log.hpp.
void append_escaped(std::string& out, std::string_view s);

// [a-z0-9_]+ and not one of the reserved keys.
bool valid_field_key(std::string_view key);

// "2026-11-26T22:31:42.123Z"; Error(invalid_argument) outside years 1970..9999.
std::string format_time(std::int64_t unix_ms);

// Lower-case hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

// What a line must say for the chain; the fields in between are checked but not kept.
struct ParsedRecord {
    std::uint64_t seq = 0;
    std::string prev;
    std::string hash;
    std::size_t hashed_len = 0;  // bytes the hash covers: up to the `,"hash":"` member
};

struct ParseResult {
    bool ok = false;
    std::string error;  // why the line is not a record, when !ok
    ParsedRecord record;
};

// Strict: one JSON object, no whitespace, no duplicate keys, valid UTF-8, no trailing bytes,
// members seq (integer), time, event, fields..., prev, hash (strings; prev/hash 64 lower hex).
// line excludes the '\n'.
ParseResult parse_record(std::string_view line);

// The hash the record's content calls for.
inline std::string content_hash(std::string_view line, const ParsedRecord& r) {
    return sha256_hex(line.substr(0, r.hashed_len));
}

}  // namespace sfts::audit::detail
