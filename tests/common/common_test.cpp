#define BOOST_TEST_MODULE common
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <set>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/secret.hpp"
#include "sfts/server/config.hpp"
#include "softhsm_fixture.hpp"

using namespace sfts;

BOOST_AUTO_TEST_CASE(error_kinds_have_distinct_names_and_exit_codes) {
    std::set<std::string_view> names;
    std::set<int> codes;
    for (int i = 0; i <= static_cast<int>(Errc::internal); ++i) {
        auto e = static_cast<Errc>(i);
        names.insert(errc_name(e));
        codes.insert(exit_code(e));
    }
    BOOST_TEST(names.size() == static_cast<std::size_t>(Errc::internal) + 1);
    BOOST_TEST(codes.size() == names.size());
    BOOST_TEST(exit_code(Errc::ok) == 0);
    BOOST_TEST(!codes.count(1));  // 1 is for usage errors
}

BOOST_AUTO_TEST_CASE(secret_moves_and_wipes) {
    Secret a("hunter2-long-enough-to-leave-sso-storage");
    for (char c : std::string("more")) a.push_back(c);
    BOOST_TEST(a.view() == "hunter2-long-enough-to-leave-sso-storagemore");
    Secret b = std::move(a);
    BOOST_TEST(a.empty());
    BOOST_TEST(b.size() == 44u);
    const char* data = b.c_str();
    std::size_t n = b.size();
    b.wipe();
    BOOST_TEST(b.empty());
    // wipe() zeroes the buffer it keeps (std::string keeps capacity after clear()).
    for (std::size_t i = 0; i < n; ++i) BOOST_TEST(data[i] == '\0');
}

BOOST_AUTO_TEST_CASE(secret_source_parsing) {
    BOOST_TEST((hsm::SecretSource::parse("prompt").kind == hsm::SecretSource::Kind::prompt));
    auto f = hsm::SecretSource::parse("file:/etc/pin");
    BOOST_TEST((f.kind == hsm::SecretSource::Kind::file));
    BOOST_TEST(f.where == "/etc/pin");
    BOOST_TEST(hsm::SecretSource::parse("env:SFTS_PIN").where == "SFTS_PIN");
    BOOST_CHECK_THROW(hsm::SecretSource::parse("1234"), Error);
    BOOST_CHECK_THROW(hsm::SecretSource::parse("env:BAD NAME"), Error);
    BOOST_CHECK_THROW(hsm::SecretSource::parse("file:"), Error);
}

BOOST_AUTO_TEST_CASE(secret_file_must_be_private) {
    test::TempDir dir;
    std::string path = dir.file("pin");
    test::write_text(path, "123456\n");
    ::chmod(path.c_str(), 0644);
    try {
        hsm::read_secret(hsm::SecretSource::parse("file:" + path), "");
        BOOST_FAIL("a world-readable PIN file was accepted");
    } catch (const Error& e) {
        BOOST_TEST((e.kind() == Errc::permission_denied));
        BOOST_TEST(std::string(e.what()).find("123456") == std::string::npos);
    }
    ::chmod(path.c_str(), 0600);
    auto s = hsm::read_secret(hsm::SecretSource::parse("file:" + path), "");
    BOOST_TEST(s.view() == "123456");  // one trailing newline dropped
    test::write_text(path, "");
    BOOST_CHECK_THROW(hsm::read_secret(hsm::SecretSource::parse("file:" + path), ""), Error);
    BOOST_CHECK_THROW(hsm::read_secret(hsm::SecretSource::parse("file:" + dir.file("absent")), ""), Error);
}

BOOST_AUTO_TEST_CASE(secret_from_environment) {
    ::setenv("SFTS_TEST_SECRET", "s3cret", 1);
    BOOST_TEST(hsm::read_secret(hsm::SecretSource::parse("env:SFTS_TEST_SECRET"), "").view() == "s3cret");
    ::unsetenv("SFTS_TEST_SECRET");
    BOOST_CHECK_THROW(hsm::read_secret(hsm::SecretSource::parse("env:SFTS_TEST_SECRET"), ""), Error);
}

BOOST_AUTO_TEST_CASE(atomic_write_replaces_whole_file) {
    test::TempDir dir;
    std::string path = dir.file("f");
    write_file_atomic(path, "first", 0600);
    write_file_atomic(path, "second", 0600);
    BOOST_TEST(read_file(path) == "second");
    struct stat st {};
    ::stat(path.c_str(), &st);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    // No temporary file is left behind.
    auto r = test::run("ls -A " + dir.path());
    BOOST_TEST(r.output == "f\n");
    BOOST_CHECK_THROW(write_file_atomic(dir.file("missing-dir/f"), "x"), Error);
    BOOST_CHECK_THROW(read_file(dir.file("absent")), Error);
    BOOST_CHECK_THROW(read_file(path, 3), Error);
}

BOOST_AUTO_TEST_CASE(config_defaults_and_errors_name_the_option) {
    auto c = server::default_config();
    BOOST_TEST(c.pki.token.token == "sfts-server");
    BOOST_TEST(c.pki.ca.days == 3650);
    test::TempDir dir;
    std::string path = dir.file("sftsd.conf");
    test::write_text(path, "[pki]\nca_days = 10\nserver_ips = 127.0.0.1, ::1\n[paths]\nstate_dir = /tmp/x\n");
    auto l = server::load_config(path);
    BOOST_TEST(l.pki.ca.days == 10);
    BOOST_TEST(l.pki.state_dir == "/tmp/x");
    BOOST_TEST(l.pki.server.ip_addresses.size() == 2u);

    auto expect_error = [&](const std::string& text, const std::string& needle) {
        test::write_text(path, text);
        try {
            server::load_config(path);
            BOOST_FAIL("accepted: " + text);
        } catch (const Error& e) {
            BOOST_TEST((e.kind() == Errc::invalid_argument));
            BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
        }
    };
    expect_error("[pki]\nca_days = ten\n", "pki.ca_days");
    expect_error("[pki]\nca_days = 0\n", "pki.ca_days");
    expect_error("[pki]\nca_dayz = 10\n", "pki.ca_dayz");
    expect_error("[hsm]\ntoken = http://example\n", "hsm.token");
    expect_error("[hsm]\npin = 1234\n", "hsm.pin");
    // Found by fuzz_config: POCO splits keys at '.', and a dotted key used to escape as
    // Poco::NotFoundException instead of naming the option.
    expect_error("[server]\nx.y = 1\n", "server.x.y");
    expect_error("[server.x]\ny = 1\n", "server.x.y");
    // '#' starts a comment as documented, even with dots and '=' in it (the shipped sample).
    test::write_text(path, "# /etc/sftsd/sftsd.conf (sftsd.service)\n[pki]\n  # a=b.c\nca_days = 11\n");
    BOOST_TEST(server::load_config(path).pki.ca.days == 11);
    // The shipped sample loads as it is.
    const char* src = std::getenv("SFTS_SOURCE_DIR");
    BOOST_REQUIRE(src);
    BOOST_TEST(server::load_config(std::string(src) + "/systemd/sftsd.conf.sample").pin_source.describe().find("token-pin") !=
               std::string::npos);
    test::write_text(path, "#\n[paths]\nstate_dir = /x#y\n");
    BOOST_TEST(server::load_config(path).pki.state_dir == "/x#y");
    // Every default round-trips through the documented defaults file.
    test::write_text(path, server::Config::defaults_ini());
    BOOST_TEST(server::load_config(path).pki.server.days == c.pki.server.days);
}
