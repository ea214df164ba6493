#include <boost/test/unit_test.hpp>

#include <string>

#include "helpers.hpp"
#include "sfts/protocol/text.hpp"

using namespace sfts::proto;
using sfts::Errc;

BOOST_AUTO_TEST_SUITE(text_rules)

BOOST_AUTO_TEST_CASE(utf8_accepts_well_formed) {
    BOOST_TEST(is_valid_utf8(""));
    BOOST_TEST(is_valid_utf8("plain ascii"));
    BOOST_TEST(is_valid_utf8("\xC3\xA9"));          // é
    BOOST_TEST(is_valid_utf8("\xE2\x82\xAC"));      // €
    BOOST_TEST(is_valid_utf8("\xF0\x9F\x98\x80"));  // U+1F600
    BOOST_TEST(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

BOOST_AUTO_TEST_CASE(utf8_rejects_ill_formed) {
    BOOST_TEST(!is_valid_utf8("\x80"));              // lone continuation
    BOOST_TEST(!is_valid_utf8("\xC3"));              // truncated
    BOOST_TEST(!is_valid_utf8("\xC3\x28"));          // bad continuation
    BOOST_TEST(!is_valid_utf8("\xC0\xAF"));          // overlong '/'
    BOOST_TEST(!is_valid_utf8("\xE0\x80\xAF"));      // overlong '/'
    BOOST_TEST(!is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong '/'
    BOOST_TEST(!is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
    BOOST_TEST(!is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
    BOOST_TEST(!is_valid_utf8("\xF5\x80\x80\x80"));
    BOOST_TEST(!is_valid_utf8("\xFF"));
}

BOOST_AUTO_TEST_CASE(names_reject_controls_and_nul) {
    using namespace std::string_literals;
    BOOST_TEST(text_problem("alice", TextRule::name).empty());
    BOOST_TEST(text_problem("Jürgen Müller", TextRule::name).empty());
    BOOST_TEST(!text_problem("", TextRule::name).empty());
    BOOST_TEST(!text_problem("a\0b"s, TextRule::name).empty());
    BOOST_TEST(!text_problem("a\tb", TextRule::name).empty());
    BOOST_TEST(!text_problem("a\nb", TextRule::name).empty());
    BOOST_TEST(!text_problem("a\x1b[2Jb", TextRule::name).empty());
    BOOST_TEST(!text_problem("a\x7f", TextRule::name).empty());
    BOOST_TEST(!text_problem("a\xC2\x85", TextRule::name).empty());  // C1 NEL
}

BOOST_AUTO_TEST_CASE(filenames_are_one_directory_entry) {
    BOOST_TEST(text_problem("report.pdf", TextRule::filename).empty());
    BOOST_TEST(text_problem("..hidden", TextRule::filename).empty());
    BOOST_TEST(!text_problem(".", TextRule::filename).empty());
    BOOST_TEST(!text_problem("..", TextRule::filename).empty());
    BOOST_TEST(!text_problem("a/b", TextRule::filename).empty());
    BOOST_TEST(!text_problem("../etc/passwd", TextRule::filename).empty());
    BOOST_TEST(!text_problem("a\\b", TextRule::filename).empty());
}

BOOST_AUTO_TEST_CASE(text_allows_tab_and_newline_only) {
    using namespace std::string_literals;
    BOOST_TEST(text_problem("", TextRule::text).empty());
    BOOST_TEST(text_problem("line 1\n\tline 2", TextRule::text).empty());
    BOOST_TEST(!text_problem("\x1b[31mred", TextRule::text).empty());
    BOOST_TEST(!text_problem("a\0"s, TextRule::text).empty());
    BOOST_TEST(!text_problem("\r", TextRule::text).empty());
}

BOOST_AUTO_TEST_CASE(check_text_kinds) {
    SFTS_CHECK_ERRC(check_text(std::string(11, 'a'), 10, TextRule::name, "f", Errc::protocol),
                    Errc::limit_exceeded);
    SFTS_CHECK_ERRC(check_text("a\x01", 10, TextRule::name, "f", Errc::protocol), Errc::protocol);
    SFTS_CHECK_ERRC(check_text("a\x01", 10, TextRule::name, "f", Errc::invalid_argument),
                    Errc::invalid_argument);
    BOOST_CHECK_NO_THROW(check_text(std::string(10, 'a'), 10, TextRule::name, "f", Errc::protocol));
}

BOOST_AUTO_TEST_SUITE_END()
