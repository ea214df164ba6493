#include <boost/test/unit_test.hpp>

#include "helpers.hpp"
#include "sfts/auth/hmac.hpp"

using namespace sfts::auth;
using namespace sfts::test::auth;

BOOST_AUTO_TEST_SUITE(hmac)

BOOST_AUTO_TEST_CASE(rfc4231_test_case_2) {
    auto mac = hmac_sha256(bytes("Jefe"), bytes("what do ya want for nothing?"));
    auto expected = unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    BOOST_TEST(std::vector<std::uint8_t>(mac.begin(), mac.end()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_key_and_data_are_fine) {
    // RFC 4231 has no such case; HMAC-SHA256("", "") is a well-known value.
    auto mac = hmac_sha256({}, {});
    auto expected = unhex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    BOOST_TEST(std::vector<std::uint8_t>(mac.begin(), mac.end()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(equal_constant_time_cases) {
    auto a = bytes("0123456789abcdef");
    auto b = bytes("0123456789abcdef");
    auto c = bytes("0123456789abcdeF");
    BOOST_TEST(equal_constant_time(a, b));
    BOOST_TEST(!equal_constant_time(a, c));
    BOOST_TEST(!equal_constant_time(a, bytes("0123456789abcde")));  // length mismatch
    BOOST_TEST(equal_constant_time({}, {}));
}

BOOST_AUTO_TEST_CASE(random_bytes_sizes_and_freshness) {
    BOOST_TEST(random_bytes(0).empty());
    auto x = random_bytes(32);
    auto y = random_bytes(32);
    BOOST_TEST(x.size() == 32u);
    BOOST_TEST(x != y);
}

BOOST_AUTO_TEST_SUITE_END()
