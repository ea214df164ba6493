// Field encodings shared by several messages, so a filename or a user name is spelled the
// same way (same limit, same rule) everywhere on the wire.
#pragma once

#include <string>
#include <string_view>

#include "sfts/protocol/limits.hpp"
#include "sfts/protocol/reader.hpp"
#include "sfts/protocol/writer.hpp"

namespace sfts::proto::fields {

inline void put_filename(Writer& w, std::string_view s, std::string_view field = "filename") {
    w.string(s, max_filename_bytes, TextRule::filename, field);
}
inline std::string get_filename(Reader& r, std::string_view field = "filename") {
    return std::string(r.string(max_filename_bytes, TextRule::filename, field));
}

// A list cursor: empty (from the start / no more pages) or a filename.
inline void put_cursor(Writer& w, std::string_view s, std::string_view field) {
    if (s.empty()) {
        w.u32(0);
    } else {
        put_filename(w, s, field);
    }
}
inline std::string get_cursor(Reader& r, std::string_view field) {
    const std::string_view s = r.string(max_filename_bytes, TextRule::text, field);
    if (!s.empty()) check_text(s, max_filename_bytes, TextRule::filename, field, Errc::protocol);
    return std::string(s);
}

inline void put_user(Writer& w, std::string_view s, std::string_view field = "user") {
    w.string(s, max_user_bytes, TextRule::name, field);
}
inline std::string get_user(Reader& r, std::string_view field = "user") {
    return std::string(r.string(max_user_bytes, TextRule::name, field));
}

inline void put_message_text(Writer& w, std::string_view s) {
    w.string(s, max_message_text, TextRule::text, "message");
}
inline std::string get_message_text(Reader& r) {
    return std::string(r.string(max_message_text, TextRule::text, "message"));
}

inline void put_signature(Writer& w, ByteView b) {
    w.nonempty_bytes(b, max_signature_bytes, "signature");
}
inline Bytes get_signature(Reader& r) {
    const ByteView v = r.nonempty_bytes(max_signature_bytes, "signature");
    return Bytes(v.begin(), v.end());
}

inline Bytes to_bytes(ByteView v) { return Bytes(v.begin(), v.end()); }

}  // namespace sfts::proto::fields
