#include <boost/test/unit_test.hpp>

#include <string>

#include "helpers.hpp"
#include "sfts/protocol/reader.hpp"
#include "sfts/protocol/writer.hpp"

using namespace sfts::proto;
using sfts::Errc;

BOOST_AUTO_TEST_SUITE(reader_writer)

BOOST_AUTO_TEST_CASE(integers_are_big_endian) {
    Writer w;
    w.u8(0x01);
    w.u16(0x0203);
    w.u32(0x04050607);
    w.u64(0x08090A0B0C0D0E0Full);
    w.i64(-2);
    const Bytes expected{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
                         0x0D, 0x0E, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
    BOOST_TEST(w.data() == expected, boost::test_tools::per_element());

    Reader r(w.data());
    BOOST_TEST(r.u8() == 0x01);
    BOOST_TEST(r.u16() == 0x0203);
    BOOST_TEST(r.u32() == 0x04050607u);
    BOOST_TEST(r.u64() == 0x08090A0B0C0D0E0Full);
    BOOST_TEST(r.i64() == -2);
    BOOST_CHECK_NO_THROW(r.expect_end());
}

BOOST_AUTO_TEST_CASE(length_prefixed_round_trip) {
    Writer w;
    w.string("héllo", 16, TextRule::name, "s");
    w.bytes(Bytes{1, 2, 3}, 3, "b");
    w.bytes(Bytes{}, 3, "empty");
    Reader r(w.data());
    BOOST_TEST(r.string(16, TextRule::name, "s") == "héllo");
    BOOST_TEST(r.bytes(3, "b").size() == 3u);
    BOOST_TEST(r.bytes(3, "empty").empty());
    BOOST_CHECK_NO_THROW(r.expect_end());
}

BOOST_AUTO_TEST_CASE(length_over_max_is_limit_exceeded_even_if_bytes_follow) {
    Writer w;
    w.bytes(Bytes(5, 0xAA), 5, "b");
    Reader r(w.data());
    SFTS_CHECK_ERRC(r.bytes(4, "b"), Errc::limit_exceeded);
}

BOOST_AUTO_TEST_CASE(length_over_remaining_is_protocol) {
    Writer w;
    w.u32(100);
    w.raw(Bytes(10, 0));
    Reader r(w.data());
    SFTS_CHECK_ERRC(r.bytes(1000, "b"), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(huge_length_prefix_is_refused_before_allocation) {
    const Bytes body{0xFF, 0xFF, 0xFF, 0xFF};
    Reader r(body);
    SFTS_CHECK_ERRC(r.bytes(max_cert_bytes, "csr"), Errc::limit_exceeded);
}

BOOST_AUTO_TEST_CASE(count_checks_max_and_bytes_left) {
    Writer w;
    w.u32(0xFFFFFFFF);
    SFTS_CHECK_ERRC(Reader(w.data()).count(1000, 5, "n"), Errc::limit_exceeded);
    Writer w2;
    w2.u32(3);
    w2.raw(Bytes(14, 0));  // 3 elements of at least 5 bytes cannot fit in 14
    SFTS_CHECK_ERRC(Reader(w2.data()).count(1000, 5, "n"), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(trailing_bytes_rejected) {
    const Bytes body{0x00, 0x01, 0x02};
    Reader r(body);
    r.u16();
    SFTS_CHECK_ERRC(r.expect_end(), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(booleans_are_zero_or_one) {
    const Bytes body{0x00, 0x01, 0x02};
    Reader r(body);
    BOOST_TEST(!r.boolean("b"));
    BOOST_TEST(r.boolean("b"));
    SFTS_CHECK_ERRC(r.boolean("b"), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(truncated_integer) {
    const Bytes body{0x00, 0x01, 0x02};
    SFTS_CHECK_ERRC(Reader(body).u32(), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(writer_refuses_what_reader_would) {
    Writer w;
    SFTS_CHECK_ERRC(w.string("a\x01", 10, TextRule::name, "s"), Errc::invalid_argument);
    SFTS_CHECK_ERRC(w.string(std::string(11, 'a'), 10, TextRule::name, "s"), Errc::limit_exceeded);
    SFTS_CHECK_ERRC(w.nonempty_bytes(Bytes{}, 10, "b"), Errc::invalid_argument);
    SFTS_CHECK_ERRC(w.count(11, 10, "n"), Errc::limit_exceeded);
    BOOST_TEST(w.data().empty());
}

BOOST_AUTO_TEST_SUITE_END()
