// RFC 7512 PKCS#11 URIs, parsed by p11-kit (a maintained implementation, not ours).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfts::hsm {

struct ObjectUri {
    // Token attributes; an empty field matches any token.
    std::string token;         // CKA_LABEL of the token ("token=")
    std::string manufacturer;  // "manufacturer="
    std::string model;         // "model="
    std::string serial;        // "serial="
    // Object attributes; empty matches any.
    std::string object;              // CKA_LABEL ("object=")
    std::vector<std::uint8_t> id;    // CKA_ID ("id=", percent-encoded bytes)

    // Parses "pkcs11:token=...;object=...". Unsupported or malformed input is invalid_argument.
    // A pin-value attribute is refused: PINs never travel inside URIs or argv.
    static ObjectUri parse(std::string_view uri);

    // The URI naming this object, with type=private|cert|public appended when given.
    std::string to_string(std::string_view type = {}) const;

    // The same token, another object.
    ObjectUri with_object(std::string label, std::vector<std::uint8_t> object_id = {}) const;

    bool names_token() const { return !(token.empty() && manufacturer.empty() && model.empty() && serial.empty()); }
};

}  // namespace sfts::hsm
