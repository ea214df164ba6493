// RSA-PSS signatures as sfts uses them everywhere: SHA-256, MGF1-SHA-256, salt length 32.
// Works for token keys (through the key provider) and software keys alike.
#pragma once

#include <span>
#include <vector>

#include <openssl/evp.h>

namespace sfts::pki {

constexpr int kPssSaltLength = 32;

std::vector<unsigned char> pss_sign(EVP_PKEY* key, std::span<const unsigned char> message);

// True only for a valid signature with exactly these parameters; false for any mismatch.
// Errors unrelated to the signature (a non-RSA key) throw.
bool pss_verify(EVP_PKEY* public_key, std::span<const unsigned char> message, std::span<const unsigned char> signature);

}  // namespace sfts::pki
