// What a string from the wire may contain. Shared by the Reader (peer input, malformed ->
// Errc::protocol) and the Writer (local input, malformed -> Errc::invalid_argument), so we
// never send a string the peer's decoder would reject.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sfts/error.hpp"

namespace sfts::proto {

enum class TextRule : std::uint8_t {
    // Human-readable message: UTF-8, no controls except TAB and LF. Terminal escapes (ESC)
    // are refused so a peer cannot repaint the user's screen.
    text,
    // Identifier (user, token id, password, command name): non-empty UTF-8, no control
    // characters at all (C0, DEL, C1), so it is safe in logs, paths and SQL parameters.
    name,
    // A stored file name: a name that is one directory entry, i.e. also no '/' or '\',
    // not "." or "..". The storage layer still opens it beneath its directory fd
    // (docs/conventions.md §6); this is the first of two fences.
    filename,
};

// Strict RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s) noexcept;

// Empty when s satisfies rule, else a short reason ("not UTF-8", "control character", ...).
std::string_view text_problem(std::string_view s, TextRule rule) noexcept;

// Throws Error(limit_exceeded) when s is longer than max bytes, Error(malformed) when it
// breaks rule. field names the offending field in the message; s itself is never echoed.
void check_text(std::string_view s, std::size_t max, TextRule rule, std::string_view field,
                Errc malformed);

}  // namespace sfts::proto
