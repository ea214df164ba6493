#define BOOST_TEST_MODULE common
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <random>
#include <set>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/secret.hpp"
#include "sfts/server/config.hpp"
#include "sfts/text.hpp"
#include "sfts/log_format.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Message.h>
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

namespace {

constexpr std::uint64_t kWindow = 64 * 1024;  // a few windows in a small file

template <typename F>
void check_errc(F f, Errc want) {
    BOOST_CHECK_EXCEPTION(f(), Error, [&](const Error& e) {
        BOOST_TEST_INFO("thrown: " << e.what());
        return e.kind() == want;
    });
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

struct OpenFile {
    int fd;
    explicit OpenFile(const std::string& path, int flags = O_RDONLY) : fd(::open(path.c_str(), flags | O_CLOEXEC)) {
        BOOST_REQUIRE(fd >= 0);
    }
    ~OpenFile() { ::close(fd); }
};

// Runs body in a child process; its exit status (for the death and chaining cases).
template <typename F>
int in_child(F body) {
    pid_t pid = ::fork();
    if (pid == 0) {
        body();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

extern "C" void exit_42(int) { ::_exit(42); }
extern "C" void exit_43(int) { ::_exit(43); }

// Maps a file, truncates it and touches the vanished page: a SIGBUS outside any reader.
void foreign_sigbus(const std::string& path) {
    test::write_text(path, std::string(8192, 'x'));
    OpenFile f(path, O_RDWR);
    auto* p = static_cast<volatile char*>(::mmap(nullptr, 8192, PROT_READ, MAP_SHARED, f.fd, 0));
    if (p == MAP_FAILED) ::_exit(3);
    if (::ftruncate(f.fd, 0) != 0) ::_exit(4);
    (void)p[4096];
}

}  // namespace

// MappedReader hands out the file's bytes in pieces that never cross a window, for any size.
BOOST_AUTO_TEST_CASE(mapped_reader_reads_every_byte) {
    test::TempDir dir;
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{kWindow},
                             std::size_t{3 * kWindow + 12345}}) {
        const std::string path = dir.file("f" + std::to_string(size));
        const std::string content = random_bytes(size, static_cast<unsigned>(size));
        test::write_text(path, content);
        for (auto mode : {MappedReader::Mode::mapped, MappedReader::Mode::buffered}) {
        BOOST_TEST_CONTEXT("size " << size << (mode == MappedReader::Mode::buffered ? ", buffered" : ", mapped")) {
        OpenFile f(path);
        MappedReader r(f.fd, size, kWindow, mode);
        std::string got;
        std::mt19937 rng(7);
        for (;;) {
            const std::size_t max = 1 + rng() % (2 * kWindow);
            const auto piece = r.next(max);
            if (piece.empty()) break;
            BOOST_TEST(piece.size() <= max);
            // never across a window's end
            BOOST_TEST((r.offset() - piece.size()) / kWindow == (r.offset() - 1) / kWindow);
            got.append(reinterpret_cast<const char*>(piece.data()), piece.size());
        }
        BOOST_TEST(got.size() == size);
        BOOST_TEST((got == content));
        BOOST_TEST(!r.truncated());
        BOOST_TEST(r.next(100).empty());
        }
        }
    }
    OpenFile f(dir.file("f1"));
    check_errc([&] { MappedReader(f.fd, 1, 1000); }, Errc::invalid_argument);  // not a page multiple
    check_errc([&] { MappedReader(f.fd, 1, 0); }, Errc::invalid_argument);
    check_errc([&] { MappedReader(-1, 1).next(1); }, Errc::io);  // nothing to map
}

// A file truncated under the reader: the vanished pages read as zeros, truncated() says so,
// and the process lives on (it would die of SIGBUS without the guard).
BOOST_AUTO_TEST_CASE(mapped_reader_survives_truncation) {
    test::TempDir dir;
    const std::string path = dir.file("f");
    const std::size_t size = 4 * kWindow;
    test::write_text(path, random_bytes(size, 1));
    OpenFile f(path);
    OpenFile writer(path, O_RDWR);
    MappedReader r(f.fd, size, kWindow);
    auto first = r.next(4096);
    BOOST_TEST(first.size() == 4096u);
    BOOST_TEST(!r.truncated());
    BOOST_REQUIRE(::ftruncate(writer.fd, 8192) == 0);  // inside the first window
    std::uint64_t nonzero_after_end = 0, total = 4096;
    for (auto piece = r.next(10000); !piece.empty(); piece = r.next(10000)) {
        for (std::size_t i = 0; i < piece.size(); ++i)
            if (total + i >= 8192 && piece[i] != 0) ++nonzero_after_end;
        total += piece.size();
    }
    BOOST_TEST(total == size);  // the reader went on to the end, through later windows too
    BOOST_TEST(nonzero_after_end == 0u);
    BOOST_TEST(r.truncated());

    // Truncated before a window is even mapped: the same.
    test::write_text(path, random_bytes(size, 2));
    MappedReader r2(f.fd, size, kWindow);
    BOOST_REQUIRE(::ftruncate(writer.fd, 0) == 0);
    auto piece = r2.next(kWindow);
    BOOST_TEST(piece.size() == kWindow);
    BOOST_TEST(piece[0] == 0);
    BOOST_TEST(r2.truncated());

    // Buffered (a file system without mmap): a short read is the same zeros and flag.
    const std::string content = random_bytes(size, 3);
    test::write_text(path, content);
    MappedReader r3(f.fd, size, kWindow, MappedReader::Mode::buffered);
    auto head = r3.next(4096);
    BOOST_TEST(std::string(reinterpret_cast<const char*>(head.data()), head.size()) == content.substr(0, 4096));
    BOOST_REQUIRE(::ftruncate(writer.fd, kWindow + 100) == 0);  // inside the second window
    std::uint64_t at = 4096, wrong = 0;
    for (auto p = r3.next(10000); !p.empty(); p = r3.next(10000)) {
        for (std::size_t i = 0; i < p.size(); ++i) {
            const std::uint64_t o = at + i;
            const char want = o < kWindow + 100 ? content[o] : '\0';
            if (static_cast<char>(p[i]) != want) ++wrong;
        }
        at += p.size();
    }
    BOOST_TEST(at == size);
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(r3.truncated());
}

// The guard takes only its own faults: any other SIGBUS still kills, or reaches the handler
// that was installed before, including one installed after the guard (as the TUI does).
BOOST_AUTO_TEST_CASE(mapped_reader_guard_leaves_other_faults_alone) {
    test::TempDir dir;
    const std::string path = dir.file("g");
    test::write_text(path, std::string(kWindow, 'y'));
    int st = in_child([&] {
        std::signal(SIGBUS, SIG_DFL);  // not Boost.Test's handler: the default action
        OpenFile f(path);
        MappedReader r(f.fd, kWindow, kWindow);
        (void)r.next(1);
        foreign_sigbus(dir.file("foreign"));
    });
    BOOST_TEST_INFO("wait status " << st);
    BOOST_TEST((WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS));

    st = in_child([&] {
        std::signal(SIGBUS, exit_42);
        OpenFile f(path);
        MappedReader r(f.fd, kWindow, kWindow);
        (void)r.next(1);
        foreign_sigbus(dir.file("foreign2"));
    });
    BOOST_TEST((WIFEXITED(st) && WEXITSTATUS(st) == 42));

    st = in_child([&] {
        OpenFile f(path);
        { MappedReader r(f.fd, kWindow, kWindow); }
        std::signal(SIGBUS, exit_43);  // replaces the guard
        test::write_text(dir.file("h"), std::string(2 * kWindow, 'z'));
        OpenFile h(dir.file("h"));
        OpenFile hw(dir.file("h"), O_RDWR);
        MappedReader r(h.fd, 2 * kWindow, kWindow);  // puts the guard back, chained to exit_43
        if (::ftruncate(hw.fd, 0) != 0) ::_exit(5);
        const auto piece = r.next(kWindow);
        if (piece[100] != 0 || !r.truncated()) ::_exit(6);  // handled by the guard
        foreign_sigbus(dir.file("foreign3"));               // not the guard's
    });
    BOOST_TEST((WIFEXITED(st) && WEXITSTATUS(st) == 43));
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

// Issue 13 item 8: nothing a peer chooses may reach a log line or a terminal raw.
BOOST_AUTO_TEST_CASE(escape_text_leaves_no_control_byte) {
    BOOST_TEST(escape_text("report.pdf") == "report.pdf");
    BOOST_TEST(escape_text("a\nb") == "a\\nb");
    BOOST_TEST(escape_text("x\r\ty") == "x\\r\\ty");
    BOOST_TEST(escape_text("\033[2J") == "\\x1b[2J");
    BOOST_TEST(escape_text(std::string("a\0b", 3)) == "a\\x00b");
    BOOST_TEST(escape_text("\x7f") == "\\x7f");
    BOOST_TEST(escape_text("back\\slash") == "back\\\\slash");  // so "\n" typed in a name stays distinct
    BOOST_TEST(escape_text("a\\nb") != escape_text("a\nb"));
    // valid UTF-8 stays readable
    BOOST_TEST(escape_text("r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80") ==
               "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    // C1 CSI, bidi override, line separator, BOM: invisible or terminal-controlling
    BOOST_TEST(escape_text("\xc2\x9b" "2J") == "\\u009b2J");
    BOOST_TEST(escape_text("evil\xe2\x80\xaetxt.exe") == "evil\\u202etxt.exe");
    BOOST_TEST(escape_text("a\xe2\x80\xa8" "b") == "a\\u2028b");
    BOOST_TEST(escape_text("\xef\xbb\xbfx") == "\\ufeffx");
    // invalid UTF-8: one \xHH per byte
    BOOST_TEST(escape_text("\xff\xfe") == "\\xff\\xfe");
    BOOST_TEST(escape_text("\xc0\xaf") == "\\xc0\\xaf");                // overlong '/'
    BOOST_TEST(escape_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");       // surrogate U+D800
    BOOST_TEST(escape_text("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
    BOOST_TEST(escape_text("\xe6\x97") == "\\xe6\\x97");                // truncated
    BOOST_TEST(escape_text("\x80z") == "\\x80z");                       // stray continuation
    BOOST_TEST(!has_unsafe_text("plain name-1.txt"));
    BOOST_TEST(!has_unsafe_text("back\\slash"));
    BOOST_TEST(has_unsafe_text("a\nb"));
    BOOST_TEST(has_unsafe_text("\xff"));

    // Exhaustive over all one- and two-byte inputs: no control byte survives.
    auto clean = [](const std::string& e) {
        for (unsigned char c : e)
            if (c < 0x20 || c == 0x7f) return false;
        return true;
    };
    for (int a = 0; a < 256; ++a) {
        BOOST_TEST(clean(escape_text(std::string(1, static_cast<char>(a)))));
        for (int b = 0; b < 256; ++b) {
            std::string s{static_cast<char>(a), static_cast<char>(b)};
            if (!clean(escape_text(s))) BOOST_FAIL("control byte survives for " << a << "," << b);
        }
    }
}

BOOST_AUTO_TEST_CASE(quote_name_quotes_like_gnu_ls) {
    BOOST_TEST(quote_name("report.pdf") == "report.pdf");
    BOOST_TEST(quote_name("-rf") == "-rf");
    BOOST_TEST(quote_name("r\xc3\xa9sum\xc3\xa9") == "r\xc3\xa9sum\xc3\xa9");
    BOOST_TEST(quote_name("") == "''");
    BOOST_TEST(quote_name("   ") == "'   '");
    BOOST_TEST(quote_name("trailing ") == "'trailing '");
    BOOST_TEST(quote_name("a b") == "'a b'");
    BOOST_TEST(quote_name("it's") == "'it'\\''s'");
    BOOST_TEST(quote_name("$(rm)") == "'$(rm)'");
    BOOST_TEST(quote_name("~x") == "'~x'");
    BOOST_TEST(quote_name("a\nb") == "'a'$'\\n''b'");
    BOOST_TEST(quote_name("\033[2J") == "$'\\x1b''[2J'");
    BOOST_TEST(quote_name("\xff") == "$'\\xff'");
}

BOOST_AUTO_TEST_CASE(blank_names_are_recognised) {
    BOOST_TEST(is_blank(""));
    BOOST_TEST(is_blank(" "));
    BOOST_TEST(is_blank("   "));
    BOOST_TEST(is_blank("\xc2\xa0 \xe3\x80\x80"));         // NBSP, ideographic space
    BOOST_TEST(is_blank("\xe2\x80\x8b"));                   // zero width space
    BOOST_TEST(!is_blank(" a "));
    BOOST_TEST(!is_blank("trailing "));
    BOOST_TEST(!is_blank("-"));
    BOOST_TEST(!is_blank(" \xff"));
}

BOOST_AUTO_TEST_CASE(quote_name_round_trips_through_bash) {
    // What ls prints must give back the exact name when pasted into a shell.
    if (access("/bin/bash", X_OK) != 0) BOOST_FAIL("/bin/bash is needed");
    const std::string names[] = {"a b", "it's", "a\nb", "\033[2J", "x\xff" "y", " lead", "tab\there",
                                 "back\\slash", "\xe2\x80\xae" "bidi", "mix 'q' \"d\" $HOME `x` \x01"};
    for (const auto& n : names) {
        // The quoted name goes through bash itself (popen's /bin/sh may lack $'...').
        char script[] = "/tmp/sfts-quote-XXXXXX";
        int fd = mkstemp(script);
        BOOST_REQUIRE(fd >= 0);
        std::string body = "printf %s " + quote_name(n) + "\n";
        BOOST_REQUIRE(write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()));
        close(fd);
        std::string cmd = std::string("/bin/bash ") + script;
        FILE* p = popen(cmd.c_str(), "r");
        BOOST_REQUIRE(p);
        std::string got;
        char buf[256];
        std::size_t k;
        while ((k = fread(buf, 1, sizeof buf, p)) > 0) got.append(buf, k);
        BOOST_TEST(pclose(p) == 0);
        unlink(script);
        BOOST_TEST(got == n, "round trip of " << escape_text(n) << " via " << escape_text(quote_name(n)));
    }
}

BOOST_AUTO_TEST_CASE(log_formatter_escapes_every_line) {
    Poco::AutoPtr<EscapingFormatter> fmt(new EscapingFormatter("%p %t"));
    Poco::Message m("sftsd", "upload 'x\n2026-01-01T00:00:00Z Information forged\033[2J' refused", Poco::Message::PRIO_WARNING);
    std::string line;
    fmt->format(m, line);
    BOOST_TEST(line == "Warning upload 'x\\n2026-01-01T00:00:00Z Information forged\\x1b[2J' refused");
    BOOST_TEST(line.find('\n') == std::string::npos);
    BOOST_TEST(line.find('\033') == std::string::npos);
}
