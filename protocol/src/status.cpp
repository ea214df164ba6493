#include "sfts/protocol/status.hpp"

#include <array>
#include <utility>

namespace sfts::proto {
namespace {

// docs/protocol.md "Status codes" lists the same table.
constexpr std::array<std::pair<Errc, std::uint16_t>, 15> status_table{{
    {Errc::ok, 0},
    {Errc::invalid_argument, 1},
    {Errc::not_found, 2},
    {Errc::already_exists, 3},
    {Errc::permission_denied, 4},
    {Errc::auth_failed, 5},
    {Errc::integrity, 6},
    {Errc::token, 7},
    {Errc::crypto, 8},
    {Errc::io, 9},
    {Errc::limit_exceeded, 10},
    {Errc::protocol, 11},
    {Errc::timeout, 12},
    {Errc::unavailable, 13},
    {Errc::internal, 14},
}};

}  // namespace

std::uint16_t wire_status(Errc e) noexcept {
    for (const auto& [errc, code] : status_table) {
        if (errc == e) return code;
    }
    return wire_status(Errc::internal);
}

Errc errc_from_wire(std::uint16_t code) noexcept {
    for (const auto& [errc, wire] : status_table) {
        if (wire == code) return errc;
    }
    return Errc::protocol;
}

}  // namespace sfts::proto
