// Status codes on the wire. Explicit numbers, not the enum's order, so reordering
// sfts::Errc can never change what an old peer reads.
#pragma once

#include <cstdint>

#include "sfts/error.hpp"

namespace sfts::proto {

std::uint16_t wire_status(Errc e) noexcept;
// A code this build does not know (a newer peer) reads as Errc::protocol.
Errc errc_from_wire(std::uint16_t code) noexcept;

}  // namespace sfts::proto
