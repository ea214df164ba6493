#include <boost/test/unit_test.hpp>

#include <set>

#include "sfts/protocol/status.hpp"

using namespace sfts::proto;
using sfts::Errc;

BOOST_AUTO_TEST_SUITE(status_codes)

BOOST_AUTO_TEST_CASE(every_kind_round_trips_with_a_distinct_code) {
    std::set<std::uint16_t> seen;
    for (int i = 0; i <= static_cast<int>(Errc::internal); ++i) {
        const auto e = static_cast<Errc>(i);
        BOOST_TEST((errc_from_wire(wire_status(e)) == e));
        seen.insert(wire_status(e));
    }
    BOOST_TEST(seen.size() == static_cast<std::size_t>(Errc::internal) + 1);
}

BOOST_AUTO_TEST_CASE(codes_are_stable) {
    // docs/protocol.md "Status codes"; changing one breaks deployed peers.
    BOOST_TEST(wire_status(Errc::ok) == 0);
    BOOST_TEST(wire_status(Errc::invalid_argument) == 1);
    BOOST_TEST(wire_status(Errc::not_found) == 2);
    BOOST_TEST(wire_status(Errc::already_exists) == 3);
    BOOST_TEST(wire_status(Errc::permission_denied) == 4);
    BOOST_TEST(wire_status(Errc::auth_failed) == 5);
    BOOST_TEST(wire_status(Errc::integrity) == 6);
    BOOST_TEST(wire_status(Errc::token) == 7);
    BOOST_TEST(wire_status(Errc::crypto) == 8);
    BOOST_TEST(wire_status(Errc::io) == 9);
    BOOST_TEST(wire_status(Errc::limit_exceeded) == 10);
    BOOST_TEST(wire_status(Errc::protocol) == 11);
    BOOST_TEST(wire_status(Errc::timeout) == 12);
    BOOST_TEST(wire_status(Errc::unavailable) == 13);
    BOOST_TEST(wire_status(Errc::internal) == 14);
}

BOOST_AUTO_TEST_CASE(unknown_codes_read_as_protocol) {
    for (std::uint16_t c : {15, 100, 999, 0xFFFF}) BOOST_TEST((errc_from_wire(c) == Errc::protocol));
}

BOOST_AUTO_TEST_SUITE_END()
