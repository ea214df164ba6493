#define BOOST_TEST_MODULE audit
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "sfts/audit/audit_log.hpp"
#include "sfts/error.hpp"
#include "sfts/ossl.hpp"
#include "softhsm_fixture.hpp"

using namespace sfts;
using namespace sfts::audit;

namespace {

constexpr std::int64_t kNow = 1'795'732'302'123;  // 2026-11-26T22:31:42.123Z

std::function<std::int64_t()> fixed_clock() {
    return [] { return kNow; };
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The log's lines without their newlines (every line of a sound log ends with one).
std::vector<std::string> read_lines(const std::string& path) {
    const std::string all = read_all(path);
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < all.size()) {
        const auto nl = all.find('\n', at);
        if (nl == std::string::npos) {
            lines.push_back(all.substr(at));
            break;
        }
        lines.push_back(all.substr(at, nl - at));
        at = nl + 1;
    }
    return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    test::write_text(path, all);
}

std::string sha256_hex(std::string_view s) { return ossl::hex(ossl::sha256(s.data(), s.size())); }

// A line whose hash matches its content: body is everything up to and including "prev".
std::string forge(const std::string& body_through_prev) {
    return body_through_prev + ",\"hash\":\"" + sha256_hex(body_through_prev) + "\"}";
}

// A log of n records "login" user=user<i> result=ok, written with sync off.
std::string make_log(const test::TempDir& dir, int n, const std::string& name = "audit.log") {
    const std::string path = dir.file(name);
    AuditLog log(path, fixed_clock());
    log.sync = false;
    for (int i = 1; i <= n; ++i) log.append("login", {{"user", "user" + std::to_string(i)}, {"result", "ok"}});
    return path;
}

std::string problems_text(const VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += "  " + p + "\n";
    return s;
}

bool has_problem(const VerifyReport& r, const std::string& text) {
    return std::any_of(r.problems.begin(), r.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

#define CHECK_PROBLEM(report, text)                                                             \
    BOOST_CHECK_MESSAGE(has_problem(report, text), "missing problem \"" << (text) << "\" in:\n" \
                                                                        << problems_text(report))

template <typename F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    BOOST_FAIL("no sfts::Error thrown");
    return Error(Errc::ok, "");
}

std::uint64_t seq_of(const std::string& line) {
    Poco::JSON::Parser parser;
    return parser.parse(line).extract<Poco::JSON::Object::Ptr>()->getValue<std::uint64_t>("seq");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(format)

BOOST_AUTO_TEST_CASE(first_record_is_exactly_the_documented_line) {
    test::TempDir dir;
    AuditLog log(dir.file("audit.log"), fixed_clock());
    log.append("login", {{"user", "alice"}, {"bytes", "42"}});
    const auto lines = read_lines(log.path());
    BOOST_REQUIRE_EQUAL(lines.size(), 1u);
    const std::string body =
        "{\"seq\":1,\"time\":\"2026-11-26T22:31:42.123Z\",\"event\":\"login\",\"user\":\"alice\","
        "\"bytes\":\"42\",\"prev\":\"" +
        std::string(kZeroHash) + "\"";
    BOOST_CHECK_EQUAL(lines[0], forge(body));
    BOOST_CHECK_EQUAL(log.head(), "1:" + sha256_hex(body));
    BOOST_CHECK_EQUAL(AuditLog(log.path()).head(), log.head());  // a one-line file read back
    struct stat st {};
    BOOST_REQUIRE_EQUAL(::stat(log.path().c_str(), &st), 0);
    BOOST_CHECK_EQUAL(st.st_mode & 0777, 0600u);
}

BOOST_AUTO_TEST_CASE(escaping_choices) {
    test::TempDir dir;
    AuditLog log(dir.file("audit.log"), fixed_clock());
    log.append("e", {{"v", std::string("q\"b\\n\nz\0t\x7f", 10)}});
    log.append("e", {{"v", "\xc2\x9b[2J"}});  // C1 CSI
    log.append("e", {{"v",
                      "a\xff"
                      "b\xe2\x82"
                      "c"}});                          // stray byte, truncated sequence
    log.append("e", {{"v", "\xed\xa0\x80\xc0\xaf"}});  // surrogate, overlong '/'
    log.append("e", {{"v", "Grüße 日本 \xf0\x9f\x94\x91"}});
    const auto lines = read_lines(log.path());
    BOOST_REQUIRE_EQUAL(lines.size(), 5u);
    BOOST_CHECK(lines[0].find(R"("v":"q\"b\\n\u000az\u0000t\u007f")") != std::string::npos);
    BOOST_CHECK(lines[1].find(R"("v":"\u009b[2J")") != std::string::npos);
    BOOST_CHECK(lines[2].find("\"v\":\"a\xef\xbf\xbd"
                              "b\xef\xbf\xbd\xef\xbf\xbd"
                              "c\"") != std::string::npos);
    std::string five_fffd;
    for (int i = 0; i < 5; ++i) five_fffd += "\xef\xbf\xbd";
    BOOST_CHECK(lines[3].find("\"v\":\"" + five_fffd + "\"") != std::string::npos);
    BOOST_CHECK(lines[4].find("\"v\":\"Grüße 日本 \xf0\x9f\x94\x91\"") != std::string::npos);
    BOOST_CHECK(verify(log.path()).ok);
}

BOOST_AUTO_TEST_CASE(hostile_values_verify_and_parse_as_json) {
    test::TempDir dir;
    const std::vector<std::string> hostile = {
        "plain",
        "\"quoted\" \\back\\slash\\",
        "line1\nline2\r\n\"},\"hash\":\"" + std::string(64, 'f') + "\"}\n{\"seq\":1",
        std::string("nul\0inside", 10),
        std::string("\x01\x02\x1b[31m\x1f\x7f", 8),
        "UTF-8: Grüße, 日本語, \xf0\x9f\x94\x91, \xe2\x80\xa8 line separator",
        "invalid: \xff\xfe \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82",
        std::string(10 * 1024, 'x') + "\"\n",
        ",\"hash\":\"",
        "",
    };
    // What a JSON reader must get back: the value, but U+FFFD for ill-formed UTF-8 bytes.
    const std::string fffd = "\xef\xbf\xbd";
    const std::string invalid_decoded = "invalid: " + fffd + fffd + " " + fffd + fffd + " " + fffd + fffd + fffd + " " +
                                        fffd + fffd + fffd + fffd + " " + fffd + fffd;

    AuditLog log(dir.file("audit.log"), fixed_clock());
    log.sync = false;
    for (int i = 0; i < 100; ++i) {
        const auto& v = hostile[static_cast<std::size_t>(i) % hostile.size()];
        log.append(i % 7 == 0 ? "event \"with\" \n quotes" : "upload", {{"file_name", v}, {"n", std::to_string(i)}});
    }

    const auto report = verify(log.path());
    BOOST_CHECK_MESSAGE(report.ok, problems_text(report));
    BOOST_CHECK_EQUAL(report.records, 100u);
    BOOST_CHECK_EQUAL(report.last_seq, 100u);
    BOOST_CHECK_EQUAL(log.head(), "100:" + report.last_hash);

    const std::string all = read_all(log.path());
    BOOST_CHECK_EQUAL(std::count(all.begin(), all.end(), '\n'), 100);
    for (char c : all)  // no control byte at all but the line ends
        BOOST_CHECK_MESSAGE(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f),
                            "raw control byte " << static_cast<int>(static_cast<unsigned char>(c)));

    const auto lines = read_lines(log.path());
    BOOST_REQUIRE_EQUAL(lines.size(), 100u);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        Poco::JSON::Parser parser;
        Poco::JSON::Object::Ptr obj;
        BOOST_REQUIRE_NO_THROW(obj = parser.parse(lines[i]).extract<Poco::JSON::Object::Ptr>());
        BOOST_CHECK_EQUAL(obj->getValue<std::uint64_t>("seq"), i + 1);
        BOOST_CHECK_EQUAL(obj->getValue<std::string>("n"), std::to_string(i));
        const auto& v = hostile[i % hostile.size()];
        const std::string expected = v.rfind("invalid: ", 0) == 0 ? invalid_decoded : v;
        BOOST_CHECK_MESSAGE(obj->getValue<std::string>("file_name") == expected, "value of line " << i + 1);
        BOOST_CHECK_EQUAL(obj->getValue<std::string>("event"), i % 7 == 0 ? "event \"with\" \n quotes" : "upload");
    }
}

BOOST_AUTO_TEST_CASE(reserved_and_invalid_keys_are_rejected) {
    test::TempDir dir;
    AuditLog log(dir.file("audit.log"), fixed_clock());
    log.append("ok", {{"a_1", "x"}});
    const auto before = read_all(log.path());
    for (const std::string key :
         {"seq", "time", "event", "prev", "hash", "", "User", "a-b", "a b", "ключ", "a\n", "\"x\""}) {
        BOOST_CHECK_MESSAGE(error_of([&] {
                                log.append("e", {{"ok", "1"}, {key, "v"}});
                            }).kind() == Errc::invalid_argument,
                            "key \"" << key << "\"");
    }
    BOOST_CHECK(error_of([&] { log.append("", {}); }).kind() == Errc::invalid_argument);
    BOOST_CHECK(error_of([&] {
                    log.append("e", {{"big", std::string(kMaxRecordBytes, 'x')}});
                }).kind() == Errc::limit_exceeded);
    BOOST_CHECK(error_of([&] {
                    log.append("e", {{"nuls", std::string(kMaxRecordBytes / 6, '\0')}});
                }).kind() == Errc::limit_exceeded);  // the limit applies after escaping (6 bytes per NUL)
    BOOST_CHECK(read_all(log.path()) == before);
    log.append("ok", {});  // still usable, chain intact
    BOOST_CHECK(verify(log.path()).ok);
}

BOOST_AUTO_TEST_CASE(symlink_and_missing_files) {
    test::TempDir dir;
    const std::string real = make_log(dir, 1);
    BOOST_REQUIRE_EQUAL(::symlink(real.c_str(), dir.file("link.log").c_str()), 0);
    BOOST_CHECK(error_of([&] { AuditLog log(dir.file("link.log")); }).kind() == Errc::invalid_argument);
    BOOST_CHECK(error_of([&] { verify(dir.file("missing.log")); }).kind() == Errc::not_found);
    BOOST_CHECK(error_of([&] { AuditLog log(dir.file("no/such/dir.log")); }).kind() == Errc::io);
    AuditLog empty(dir.file("empty.log"));
    BOOST_CHECK_EQUAL(empty.head(), "0:" + std::string(kZeroHash));
    const auto r = verify(empty.path());
    BOOST_CHECK(r.ok);
    BOOST_CHECK_EQUAL(r.records, 0u);
    BOOST_CHECK_EQUAL(r.last_hash, kZeroHash);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tampering)

BOOST_AUTO_TEST_CASE(untouched_log_verifies) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    const auto r = verify(path);
    BOOST_CHECK_MESSAGE(r.ok, problems_text(r));
    BOOST_CHECK_EQUAL(r.records, 10u);
    BOOST_CHECK_EQUAL(r.last_seq, 10u);
}

BOOST_AUTO_TEST_CASE(edited_value_same_and_different_length) {
    for (const std::string replacement : {"user9", "mallory"}) {
        test::TempDir dir;
        const auto path = make_log(dir, 10);
        auto lines = read_lines(path);
        const auto at = lines[4].find("\"user5\"");
        BOOST_REQUIRE(at != std::string::npos);
        lines[4].replace(at + 1, 5, replacement);
        write_lines(path, lines);
        const auto r = verify(path);
        BOOST_CHECK(!r.ok);
        BOOST_CHECK_EQUAL(r.problems.size(), 1u);
        CHECK_PROBLEM(r, "line 5: hash does not match its content (record edited)");
        // The tail is sound, so the log can still be appended to; the edit stays reported.
        AuditLog log(path, fixed_clock());
        log.append("after", {});
        BOOST_CHECK_EQUAL(verify(path).problems.size(), 1u);
    }
}

BOOST_AUTO_TEST_CASE(deleted_middle_line) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    lines.erase(lines.begin() + 4);  // record 5
    write_lines(path, lines);
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK_EQUAL(r.records, 9u);
    CHECK_PROBLEM(r, "line 5: prev does not match line 4 (record removed or reordered)");
    CHECK_PROBLEM(r, "line 5: seq 6 follows 4 (record 5 removed)");
    BOOST_CHECK_EQUAL(r.problems.size(), 2u);
}

BOOST_AUTO_TEST_CASE(deleted_several_middle_lines) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    lines.erase(lines.begin() + 3, lines.begin() + 6);  // records 4..6
    write_lines(path, lines);
    const auto r = verify(path);
    CHECK_PROBLEM(r, "line 4: seq 7 follows 3 (records 4 to 6 removed)");
}

BOOST_AUTO_TEST_CASE(deleted_first_line) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    lines.erase(lines.begin());
    write_lines(path, lines);
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    CHECK_PROBLEM(r, "first record's prev must be 64 zeros (records removed from the start)");
    BOOST_CHECK_EQUAL(r.problems.size(), 1u);
}

BOOST_AUTO_TEST_CASE(swapped_lines) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    std::swap(lines[3], lines[4]);  // records 4 and 5
    write_lines(path, lines);
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    CHECK_PROBLEM(r, "line 4: prev does not match line 3 (record removed or reordered)");
    CHECK_PROBLEM(r, "line 4: seq 5 follows 3 (record 4 out of order)");
    CHECK_PROBLEM(r, "line 5: prev does not match line 4 (record removed or reordered)");
    CHECK_PROBLEM(r, "line 5: seq 4 follows 5 (record duplicated or reordered)");
    CHECK_PROBLEM(r, "line 6: prev does not match line 5");
    BOOST_CHECK(!has_problem(r, "hash does not match"));
}

BOOST_AUTO_TEST_CASE(duplicated_line) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    lines.insert(lines.begin() + 5, lines[4]);  // record 5 twice
    write_lines(path, lines);
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK_EQUAL(r.records, 11u);
    CHECK_PROBLEM(r, "line 6: prev does not match line 5 (record removed or reordered)");
    CHECK_PROBLEM(r, "line 6: seq 5 follows 5 (record duplicated or reordered)");
}

BOOST_AUTO_TEST_CASE(inserted_forged_lines) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    const auto original = read_lines(path);
    const std::string hash5 = original[4].substr(original[4].size() - 66, 64);

    // Recomputed hash, wrong prev.
    auto lines = original;
    lines.insert(lines.begin() + 5, forge("{\"seq\":6,\"time\":\"2026-11-26T22:31:42.123Z\",\"event\":\"login\","
                                          "\"user\":\"root\",\"prev\":\"" +
                                          std::string(64, 'a') + "\""));
    write_lines(path, lines);
    auto r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK(!has_problem(r, "hash does not match"));
    CHECK_PROBLEM(r, "line 6: prev does not match line 5 (record removed or reordered)");
    CHECK_PROBLEM(r, "line 7: prev does not match line 6 (record removed or reordered)");

    // Recomputed hash and the right prev: the record after it no longer links.
    lines = original;
    lines.insert(lines.begin() + 5, forge("{\"seq\":6,\"time\":\"2026-11-26T22:31:42.123Z\",\"event\":\"login\","
                                          "\"user\":\"root\",\"prev\":\"" +
                                          hash5 + "\""));
    write_lines(path, lines);
    r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK(!has_problem(r, "line 6:"));
    CHECK_PROBLEM(r, "line 7: prev does not match line 6 (record removed or reordered)");
    CHECK_PROBLEM(r, "line 7: seq 6 follows 6 (record duplicated or reordered)");
}

BOOST_AUTO_TEST_CASE(not_strict_json_is_not_a_record) {
    test::TempDir dir;
    const auto path = make_log(dir, 3);
    const auto original = read_lines(path);
    const std::string p = "{\"seq\":4,\"time\":\"t\",\"event\":\"e\",";
    const std::string prev = ",\"prev\":\"" + original[2].substr(original[2].size() - 66, 64) + "\"";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {forge(p + "\"a\":\"1\",\"a\":\"2\"" + prev), "duplicate key"},
        {forge(p + "\"a\":\"1\"" + prev) + "x", "trailing bytes"},
        {forge(p + "\"a\":1" + prev), "not a string"},
        {forge(p + "\"a\":\"\xff\"" + prev), "invalid UTF-8"},
        {forge(p + "\"a\":\"\t\"" + prev), "raw control character"},
        {forge(p + "\"A\":\"1\"" + prev), "bad field key"},
        {forge("{\"seq\":04,\"time\":\"t\",\"event\":\"e\"" + prev), "leading zero"},
        {forge("{\"time\":\"t\",\"seq\":4,\"event\":\"e\"" + prev), "first member"},
        {forge(p + "\"a\": \"1\"" + prev), "expected a string"},
        {"[]", "does not start with '{'"},
        {"", "does not start with '{'"},
    };
    for (const auto& [line, why] : cases) {
        auto lines = original;
        lines.push_back(line);
        write_lines(path, lines);
        const auto r = verify(path);
        BOOST_CHECK_EQUAL(r.records, 3u);
        CHECK_PROBLEM(r, "line 4: not a JSON record (");
        CHECK_PROBLEM(r, why);
    }
}

BOOST_AUTO_TEST_CASE(appended_garbage) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    test::write_text(path, read_all(path) + "garbage\n");
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK_EQUAL(r.records, 10u);
    BOOST_CHECK_EQUAL(r.last_seq, 10u);
    CHECK_PROBLEM(r, "line 11: not a JSON record (does not start with '{'");
    const auto e = error_of([&] { AuditLog log(path); });
    BOOST_CHECK(e.kind() == Errc::integrity);
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("line 11: not a JSON record") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(garbage_between_records_is_reported_once) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    lines.insert(lines.begin() + 5, "{\"not\":\"ours\"}");
    write_lines(path, lines);
    const auto r = verify(path);
    BOOST_CHECK_EQUAL(r.problems.size(), 1u);
    CHECK_PROBLEM(r, "line 6: not a JSON record (too few members)");
}

BOOST_AUTO_TEST_CASE(overlong_lines_are_not_buffered) {
    test::TempDir dir;
    const auto path = make_log(dir, 3);
    const std::string huge(kMaxRecordBytes + 10, 'x');
    test::write_text(path, read_all(path) + huge + "\n" + read_all(path));
    auto r = verify(path);
    CHECK_PROBLEM(r, "line 4: longer than 1048576 bytes (not a record)");
    CHECK_PROBLEM(r, "line 5: prev does not match line 3 (record removed or reordered)");
    test::write_text(path, read_all(path) + huge + "\n");
    const auto e = error_of([&] { AuditLog log(path); });
    BOOST_CHECK(e.kind() == Errc::integrity);
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("line 8: last line longer than") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(problem_list_is_capped) {
    test::TempDir dir;
    const auto path = make_log(dir, 1);
    std::string garbage;
    for (std::size_t i = 0; i < kMaxReportedProblems + 500; ++i) garbage += "{}\n";
    test::write_text(path, read_all(path) + garbage);
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK_EQUAL(r.records, 1u);
    BOOST_CHECK_EQUAL(r.problems.size(), kMaxReportedProblems + 1);
    BOOST_CHECK_EQUAL(r.problems.back(), "... and 500 more problems");
}

BOOST_AUTO_TEST_CASE(truncated_last_line_is_a_damaged_tail) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    AuditLog opened_before(path, fixed_clock());
    const auto all = read_all(path);
    test::write_text(path, all.substr(0, all.size() - 20));  // crash mid-write of record 10
    const auto r = verify(path);
    BOOST_CHECK(!r.ok);
    BOOST_CHECK_EQUAL(r.records, 9u);
    BOOST_CHECK_EQUAL(r.last_seq, 9u);
    CHECK_PROBLEM(r, "line 10: incomplete last line (no newline: crash mid-write?)");
    BOOST_CHECK_EQUAL(r.problems.size(), 1u);

    auto e = error_of([&] { AuditLog log(path); });
    BOOST_CHECK(e.kind() == Errc::integrity);
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("line 10: incomplete last line") != std::string::npos, e.what());
    // Not repaired behind our back.
    BOOST_CHECK(read_all(path) == all.substr(0, all.size() - 20));
    // A writer that had it open sees the file shrink: it refuses too.
    e = error_of([&] { opened_before.append("x", {}); });
    BOOST_CHECK(e.kind() == Errc::integrity);
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("shrank") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(edited_last_record_blocks_appending) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    auto lines = read_lines(path);
    lines[9].replace(lines[9].find("user10"), 6, "user99");
    write_lines(path, lines);
    const auto e = error_of([&] { AuditLog log(path); });
    BOOST_CHECK(e.kind() == Errc::integrity);
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("line 10: hash does not match") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(truncated_end_is_caught_only_by_an_anchor) {
    test::TempDir dir;
    const auto path = make_log(dir, 10);
    const std::string anchor = AuditLog(path).head();  // what sftsd logs elsewhere
    BOOST_CHECK_EQUAL(anchor.substr(0, 3), "10:");
    auto lines = read_lines(path);
    lines.resize(8);
    write_lines(path, lines);
    const auto r = verify(path);
    BOOST_CHECK(r.ok);  // the documented limit of a chain on its own
    BOOST_CHECK_EQUAL(r.last_seq, 8u);
    BOOST_CHECK_NE(std::to_string(r.last_seq) + ":" + r.last_hash, anchor);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(chain)

BOOST_AUTO_TEST_CASE(reopen_continues_the_chain) {
    test::TempDir dir;
    const auto path = dir.file("audit.log");
    {
        AuditLog a(path, fixed_clock());
        a.append("start", {{"n", "1"}});
        a.append("start", {{"n", "2"}});
    }
    std::string head;
    {
        AuditLog b(path, fixed_clock());
        BOOST_CHECK_EQUAL(b.head().substr(0, 2), "2:");
        b.append("again", {{"n", "3"}});
        head = b.head();
    }
    {
        // A record longer than the chunk the tail is read back in.
        AuditLog big(path, fixed_clock());
        big.append("big", {{"blob", std::string(300 * 1024, 'b')}});
    }
    // Two live objects on one file take turns: each re-reads what the other appended.
    AuditLog c(path, fixed_clock());
    AuditLog d(path, fixed_clock());
    c.append("c", {});
    d.append("d", {});
    c.append("c", {});
    BOOST_CHECK_EQUAL(d.head(), c.head());

    const auto r = verify(path);
    BOOST_CHECK_MESSAGE(r.ok, problems_text(r));
    BOOST_CHECK_EQUAL(r.records, 7u);
    BOOST_CHECK_EQUAL(c.head(), "7:" + r.last_hash);
    const auto lines = read_lines(path);
    for (std::size_t i = 0; i < lines.size(); ++i) BOOST_CHECK_EQUAL(seq_of(lines[i]), i + 1);
    BOOST_CHECK_EQUAL(head, "3:" + lines[2].substr(lines[2].size() - 66, 64));
}

BOOST_AUTO_TEST_CASE(eight_threads_one_log) {
    test::TempDir dir;
    AuditLog log(dir.file("audit.log"));  // system clock, sync on
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                try {
                    log.append("thread", {{"t", std::to_string(t)}, {"i", std::to_string(i)}});
                } catch (...) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_CHECK_EQUAL(failures.load(), 0);
    const auto r = verify(log.path());
    BOOST_CHECK_MESSAGE(r.ok, problems_text(r));
    BOOST_CHECK_EQUAL(r.records, 1600u);
    const auto lines = read_lines(log.path());
    BOOST_REQUIRE_EQUAL(lines.size(), 1600u);
    for (std::size_t i = 0; i < lines.size(); ++i) BOOST_CHECK_EQUAL(seq_of(lines[i]), i + 1);
}

BOOST_AUTO_TEST_CASE(four_processes_one_file) {
    test::TempDir dir;
    const auto path = dir.file("audit.log");
    AuditLog parent(path);
    parent.append("parent", {});
    std::vector<pid_t> children;
    std::cout.flush();  // or the children's exit would print the parent's buffered output again
    std::fflush(nullptr);
    for (int c = 0; c < 4; ++c) {
        const pid_t pid = ::fork();
        BOOST_REQUIRE(pid >= 0);
        if (pid == 0) {
            int status = 0;
            try {
                AuditLog log(path);  // its own open file, so its own flock
                for (int i = 0; i < 100; ++i) log.append("child", {{"c", std::to_string(c)}, {"i", std::to_string(i)}});
            } catch (...) {
                status = 1;
            }
            ::_exit(status);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        BOOST_REQUIRE_EQUAL(::waitpid(pid, &status, 0), pid);
        BOOST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    parent.append("parent", {});  // continues after the children's records
    const auto r = verify(path);
    BOOST_CHECK_MESSAGE(r.ok, problems_text(r));
    BOOST_CHECK_EQUAL(r.records, 402u);
    BOOST_CHECK_EQUAL(r.last_seq, 402u);
    const auto lines = read_lines(path);
    for (std::size_t i = 0; i < lines.size(); ++i) BOOST_CHECK_EQUAL(seq_of(lines[i]), i + 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(appends_per_second) {
    test::TempDir dir;
    for (const bool sync : {true, false}) {
        AuditLog log(dir.file(sync ? "sync.log" : "nosync.log"));
        log.sync = sync;
        const int n = sync ? 300 : 20000;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i)
            log.append("upload", {{"user", "alice"}, {"file_name", "report-2026.pdf"}, {"bytes", "1048576"}});
        const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
        BOOST_TEST_MESSAGE("audit append, sync=" << (sync ? "true" : "false") << ": "
                                                 << static_cast<long>(n / dt.count()) << " appends/s (" << n << " in "
                                                 << dt.count() << " s)");
        BOOST_CHECK(verify(log.path()).ok);
    }
}

BOOST_AUTO_TEST_CASE(append_many_chains_like_single_appends) {
    test::TempDir dir;
    AuditLog log(dir.file("audit.log"), fixed_clock());
    log.sync = false;
    log.append("login", {{"user", "alice"}});
    std::vector<std::vector<Field>> files;
    for (int i = 0; i < 50; ++i) files.push_back({{"filename", "f" + std::to_string(i)}, {"size", "4096"}});
    log.append_many("batch_file", files);
    log.append("logout", {{"user", "alice"}});
    const auto report = verify(log.path());
    BOOST_CHECK_MESSAGE(report.ok, problems_text(report));
    BOOST_CHECK_EQUAL(report.records, 52u);
    BOOST_CHECK_EQUAL(log.head(), "52:" + report.last_hash);
    const auto lines = read_lines(log.path());
    BOOST_REQUIRE_EQUAL(lines.size(), 52u);
    BOOST_CHECK(lines[50].find("\"filename\":\"f49\"") != std::string::npos);
    // One bad record refuses the whole batch: nothing is appended.
    files[10].push_back({"seq", "1"});
    BOOST_CHECK_THROW(log.append_many("batch_file", files), sfts::Error);
    BOOST_CHECK_EQUAL(read_lines(log.path()).size(), 52u);
    // The same bytes as appending one by one: a second log built that way has the same head.
    AuditLog other(dir.file("other.log"), fixed_clock());
    other.sync = false;
    other.append("login", {{"user", "alice"}});
    for (int i = 0; i < 50; ++i) other.append("batch_file", {{"filename", "f" + std::to_string(i)}, {"size", "4096"}});
    other.append("logout", {{"user", "alice"}});
    BOOST_CHECK_EQUAL(other.head(), log.head());
}
