#pragma once

#include <string>

#include "sfts/hsm/pkcs11.hpp"

namespace sfts::hsm {

// "CKR_PIN_INCORRECT" for 0xA0, "CKR_0x80000001" for an unknown vendor code.
std::string ckr_name(CK_RV rv);

}  // namespace sfts::hsm
