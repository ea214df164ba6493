#define BOOST_TEST_MODULE storage
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/storage/file_store.hpp"
#include "softhsm_fixture.hpp"

using namespace sfts;
using namespace sfts::storage;
namespace fs = std::filesystem;

namespace {


std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> v(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x);
    }
    return v;
}

void upload(FileStore& store, const std::string& name, const std::vector<std::uint8_t>& data, bool overwrite = false,
            std::size_t chunk = 1 << 20) {
    auto up = store.begin_upload(data.size());
    for (std::size_t off = 0; off < data.size(); off += chunk)
        up.write(std::span(data).subspan(off, std::min(chunk, data.size() - off)));
    BOOST_TEST(up.bytes_written() == data.size());
    up.commit(name, overwrite);
}

std::vector<std::uint8_t> read_all(FileStore& store, const std::string& name) {
    auto r = store.open(name);
    std::vector<std::uint8_t> out;
    sfts::MappedReader source(r.fd(), r.size());  // as the server's downloads read it
    for (auto piece = source.next(256 * 1024); !piece.empty(); piece = source.next(256 * 1024))
        out.insert(out.end(), piece.begin(), piece.end());
    BOOST_TEST(!source.truncated());
    BOOST_TEST(out.size() == r.size());
    return out;
}

std::set<std::string> entries(const std::string& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

std::string slurp(const std::string& path) { return read_file(path); }

struct Fixture {
    test::TempDir tmp;
    std::string dir = tmp.file("files");
    std::string canary = tmp.file("canary");
    FileStore store{dir};
    Fixture() { test::write_text(canary, "canary: do not touch\n"); }
};

const std::vector<std::string>& hostile_names() {
    static const std::vector<std::string> names{
        "", ".", "..", "../x", "a/b", "/etc/passwd", "a\\b", "..\\x", std::string("x\0y", 3),
        "a\x01", "tab\there", "new\nline", "esc\x1b[2J", "del\x7f", "c1\xc2\x85",  // NEL, a C1 control
        std::string(256, 'n'), ".sfts-tmp-1", ".sfts-tmp-", ".sfts-anything",
        "\xc0\xae", "\xc0\xae\xc0\xae/x",  // overlong '.'
        "\xed\xa0\x80",                     // a UTF-16 surrogate
        "\xff", "trail\xe2\x82",            // not UTF-8, truncated sequence
    };
    return names;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(round_trip, Fixture) {
    auto data = pattern((3 << 20) + 12345, 1);
    auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    upload(store, "report.pdf", data, false, 100'000);
    BOOST_TEST(store.exists("report.pdf"));
    BOOST_TEST(!store.exists("other"));
    auto r = store.open("report.pdf");
    BOOST_TEST(r.size() == data.size());
    BOOST_TEST(r.mtime_ms() >= before - 2000);
    BOOST_TEST(r.mtime_ms() <= before + 60'000);
    BOOST_TEST((read_all(store, "report.pdf") == data));
    BOOST_TEST(entries(dir) == std::set<std::string>{"report.pdf"}, boost::test_tools::per_element());

    struct stat st {};
    BOOST_REQUIRE(::stat((dir + "/report.pdf").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_REQUIRE(::stat(dir.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0700u);

    // Empty file; fewer bytes than announced gives back the preallocation.
    upload(store, "empty", {});
    BOOST_TEST(store.open("empty").size() == 0u);
    auto up = store.begin_upload(1 << 20);
    up.write(std::span(data).first(10));
    up.commit("short", false);
    BOOST_TEST(store.open("short").size() == 10u);

    store.remove("report.pdf");
    BOOST_TEST(!store.exists("report.pdf"));
    BOOST_TEST((sfts::test::kind_of([&] { store.remove("report.pdf"); }) == Errc::not_found));
    BOOST_TEST((sfts::test::kind_of([&] { store.open("report.pdf"); }) == Errc::not_found));
    BOOST_TEST(store.free_bytes() > 0u);
}

BOOST_FIXTURE_TEST_CASE(commit_refuses_an_existing_name_unless_overwrite, Fixture) {
    upload(store, "a", pattern(1000, 1));
    BOOST_TEST((sfts::test::kind_of([&] { upload(store, "a", pattern(2000, 2)); }) == Errc::already_exists));
    BOOST_TEST((read_all(store, "a") == pattern(1000, 1)));
    upload(store, "a", pattern(2000, 2), true);
    BOOST_TEST((read_all(store, "a") == pattern(2000, 2)));
    BOOST_TEST(entries(dir) == std::set<std::string>{"a"}, boost::test_tools::per_element());

    // A failed commit leaves the upload usable under another name; a second commit is a bug.
    auto up = store.begin_upload();
    up.write(pattern(10, 3));
    BOOST_TEST((sfts::test::kind_of([&] { up.commit("a", false); }) == Errc::already_exists));
    up.commit("b", false);
    BOOST_TEST((sfts::test::kind_of([&] { up.commit("c", false); }) == Errc::internal));
    BOOST_TEST((sfts::test::kind_of([&] { up.write(pattern(1, 1)); }) == Errc::internal));
    BOOST_TEST(entries(dir) == (std::set<std::string>{"a", "b"}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(an_uncommitted_upload_leaves_nothing_behind, Fixture) {
    {
        auto up = store.begin_upload(1 << 20);
        up.write(pattern(5000, 1));
        BOOST_TEST(entries(dir).size() == 1u);  // the temporary
        BOOST_TEST(entries(dir).begin()->starts_with(".sfts-tmp-"));
        auto moved = std::move(up);  // the moved-from object must not remove it early
        BOOST_TEST(entries(dir).size() == 1u);
        moved.write(pattern(10, 2));
    }
    BOOST_TEST(entries(dir).empty());

    auto a = store.begin_upload();
    auto b = store.begin_upload();
    a = std::move(b);  // assignment discards a's temporary
    BOOST_TEST(entries(dir).size() == 1u);
    a.commit("kept", false);
    BOOST_TEST(entries(dir) == std::set<std::string>{"kept"}, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(crash_leftovers_are_removed_on_open_but_live_uploads_are_not, Fixture) {
    test::write_text(dir + "/.sfts-tmp-x", "half an upload");
    test::write_text(dir + "/.sfts-tmp-0123456789abcdef", "another");
    test::write_text(dir + "/keep.txt", "a file");
    test::write_text(dir + "/.sfts-tmpish", "not ours: no '-tmp-' prefix");
    auto live = store.begin_upload();
    live.write(pattern(100, 1));

    FileStore again(dir);  // e.g. a second server on the same directory
    auto left = entries(dir);
    BOOST_TEST(!left.count(".sfts-tmp-x"));
    BOOST_TEST(!left.count(".sfts-tmp-0123456789abcdef"));
    BOOST_TEST(left.count("keep.txt") == 1u);
    BOOST_TEST(left.count(".sfts-tmpish") == 1u);
    BOOST_TEST(left.size() == 3u);  // keep.txt, .sfts-tmpish and the live upload's temporary
    live.commit("live", false);
    BOOST_TEST((read_all(again, "live") == pattern(100, 1)));
}

BOOST_AUTO_TEST_CASE(valid_filename_rule) {
    for (const auto& n : hostile_names()) BOOST_TEST(!valid_filename(n), "name of " << n.size() << " bytes");
    for (std::string ok : {"a", "report.pdf", ".hidden", "..a", "a..", "...", "with space", "ünïcödé.txt",
                           "\xef\xbc\x8e\xef\xbc\x8e\xef\xbc\x8fx",  // "．．／x": fullwidth, ordinary characters
                           ".sfts", "sfts-tmp-1", "emoji \xf0\x9f\x93\x84"})
        BOOST_TEST(valid_filename(ok), ok);
    BOOST_TEST(valid_filename(std::string(255, 'n')));
    BOOST_TEST(valid_filename(std::string(85, 'x') + std::string(170, 'y')));
}

BOOST_FIXTURE_TEST_CASE(hostile_names_are_rejected_by_every_method, Fixture) {
    for (const auto& n : hostile_names()) {
        BOOST_TEST_CONTEXT("name of " << n.size() << " bytes") {
            BOOST_TEST((sfts::test::kind_of([&] { store.open(n); }) == Errc::invalid_argument));
            BOOST_TEST((sfts::test::kind_of([&] { store.remove(n); }) == Errc::invalid_argument));
            BOOST_TEST((sfts::test::kind_of([&] { store.exists(n); }) == Errc::invalid_argument));
            auto up = store.begin_upload();
            up.write(pattern(3, 3));
            BOOST_TEST((sfts::test::kind_of([&] { up.commit(n, true); }) == Errc::invalid_argument));
        }
    }
    BOOST_TEST(entries(dir).empty());
    BOOST_TEST(entries(tmp.path()) == (std::set<std::string>{"canary", "files"}), boost::test_tools::per_element());

    // Fullwidth dots and slash are one ordinary entry inside the directory.
    const std::string fw = "\xef\xbc\x8e\xef\xbc\x8e\xef\xbc\x8fx";
    upload(store, fw, pattern(64, 4));
    BOOST_TEST(entries(dir) == std::set<std::string>{fw}, boost::test_tools::per_element());
    BOOST_TEST(entries(tmp.path()) == (std::set<std::string>{"canary", "files"}), boost::test_tools::per_element());
    BOOST_TEST((read_all(store, fw) == pattern(64, 4)));
}

BOOST_FIXTURE_TEST_CASE(symlinks_are_never_followed, Fixture) {
    const std::string original = slurp(canary);
    BOOST_REQUIRE(test::run("ln -s '" + canary + "' '" + dir + "/abs'").status == 0);
    BOOST_REQUIRE(test::run("ln -s ../canary '" + dir + "/rel'").status == 0);
    BOOST_REQUIRE(test::run("ln -s '" + tmp.path() + "' '" + dir + "/dirlink'").status == 0);
    BOOST_REQUIRE(test::run("ln -s '" + canary + "' '" + dir + "/gone'").status == 0);
    BOOST_REQUIRE(test::run("ln -s '" + canary + "' '" + dir + "/.sfts-tmp-planted'").status == 0);

    // Not read.
    for (const char* link : {"abs", "rel", "dirlink"})
        BOOST_TEST((sfts::test::kind_of([&] { store.open(link); }) == Errc::invalid_argument), link);
    BOOST_TEST(store.exists("abs"));  // the name is taken, by a link

    // Not written through: refused, or the link itself replaced.
    BOOST_TEST((sfts::test::kind_of([&] { upload(store, "abs", pattern(50, 5)); }) == Errc::already_exists));
    upload(store, "rel", pattern(50, 6), true);
    BOOST_TEST(fs::is_regular_file(fs::symlink_status(dir + "/rel")));
    BOOST_TEST((read_all(store, "rel") == pattern(50, 6)));

    // Not followed by remove: the link goes, its target stays.
    store.remove("gone");
    BOOST_TEST(!fs::exists(fs::symlink_status(dir + "/gone")));

    // A symlink planted under our temporary prefix is dropped on open, not followed.
    FileStore again(dir);
    BOOST_TEST(!fs::exists(fs::symlink_status(dir + "/.sfts-tmp-planted")));

    BOOST_TEST(slurp(canary) == original);
    BOOST_TEST(fs::is_regular_file(fs::symlink_status(canary)));
    BOOST_TEST(entries(tmp.path()) == (std::set<std::string>{"canary", "files"}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(special_files_are_not_regular_files, Fixture) {
    BOOST_REQUIRE(::mkfifo((dir + "/fifo").c_str(), 0600) == 0);
    BOOST_REQUIRE(::mkdir((dir + "/sub").c_str(), 0700) == 0);
    BOOST_TEST((sfts::test::kind_of([&] { store.open("fifo"); }) == Errc::invalid_argument));  // and does not hang
    BOOST_TEST((sfts::test::kind_of([&] { store.open("sub"); }) == Errc::invalid_argument));
    BOOST_TEST((sfts::test::kind_of([&] { store.remove("sub"); }) == Errc::invalid_argument));
    BOOST_TEST((sfts::test::kind_of([&] { upload(store, "sub", pattern(5, 5), true); }) == Errc::already_exists));
    BOOST_TEST(fs::is_directory(dir + "/sub"));
}

BOOST_AUTO_TEST_CASE(a_symlinked_storage_directory_is_refused) {
    test::TempDir tmp;
    BOOST_REQUIRE(::mkdir(tmp.file("real").c_str(), 0700) == 0);
    BOOST_REQUIRE(test::run("ln -s '" + tmp.file("real") + "' '" + tmp.file("link") + "'").status == 0);
    BOOST_TEST((sfts::test::kind_of([&] { FileStore s(tmp.file("link")); }) == Errc::invalid_argument));
    test::write_text(tmp.file("plain"), "x");
    BOOST_TEST((sfts::test::kind_of([&] { FileStore s(tmp.file("plain")); }) == Errc::invalid_argument));
    FileStore ok(tmp.file("real"));
    FileStore nested(tmp.file("a/b/c"));  // created with parents
    BOOST_TEST(fs::is_directory(tmp.file("a/b/c")));
}

BOOST_FIXTURE_TEST_CASE(file_size_limit_is_storage_full, Fixture) {
    // RLIMIT_FSIZE makes write() fail with EFBIG (SIGXFSZ ignored, as the daemon must).
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit old {};
    BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    struct rlimit lim = old;
    lim.rlim_cur = 1 << 20;
    BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
    Errc streamed = Errc::ok, announced = Errc::ok;
    {
        auto up = store.begin_upload();
        streamed = sfts::test::kind_of([&] {
            for (int i = 0; i < 4; ++i) up.write(pattern(512 * 1024, static_cast<std::uint32_t>(i)));
        });
        BOOST_TEST(up.bytes_written() == (1u << 20));  // everything up to the limit went in
        announced = sfts::test::kind_of([&] { store.begin_upload(2 << 20); });
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    BOOST_TEST((streamed == Errc::limit_exceeded));
    BOOST_TEST((announced == Errc::limit_exceeded));
    BOOST_TEST(entries(dir).empty());
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_storage_full) {
    test::TempDir tmp;
    std::string mnt = tmp.file("small");
    BOOST_REQUIRE(::mkdir(mnt.c_str(), 0700) == 0);
    if (::geteuid() != 0 || test::run("mount -t tmpfs -o size=1m tmpfs '" + mnt + "' 2>&1").status != 0) {
        BOOST_TEST_MESSAGE("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount {
        std::string m;
        ~Unmount() { test::run("umount '" + m + "'"); }
    } unmount{mnt};
    FileStore store(mnt + "/files");
    Errc announced = sfts::test::kind_of([&] { store.begin_upload(4 << 20); });  // fallocate refuses up front
    BOOST_TEST((announced == Errc::limit_exceeded));
    BOOST_TEST(entries(mnt + "/files").empty());
    {
        auto up = store.begin_upload();
        Errc streamed = sfts::test::kind_of([&] {
            for (int i = 0; i < 8; ++i) up.write(pattern(512 * 1024, static_cast<std::uint32_t>(i)));
        });
        BOOST_TEST((streamed == Errc::limit_exceeded));
        BOOST_TEST(up.bytes_written() < (4u << 20));
        BOOST_TEST(store.free_bytes() < 64u * 1024);
    }
    BOOST_TEST(entries(mnt + "/files").empty());
    BOOST_TEST(store.free_bytes() > 512u * 1024);  // the space came back
    upload(store, "fits", pattern(100'000, 9));
    BOOST_TEST((read_all(store, "fits") == pattern(100'000, 9)));
}

BOOST_FIXTURE_TEST_CASE(concurrent_uploads_of_distinct_files, Fixture) {
    constexpr int n = 8;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t)
        threads.emplace_back([&, t] {
            try {
                for (int k = 0; k < 3; ++k) {
                    auto data = pattern((1 << 20) + static_cast<std::size_t>(t) * 1000 + static_cast<std::size_t>(k),
                                        static_cast<std::uint32_t>(t * 10 + k));
                    auto up = store.begin_upload(data.size());
                    for (std::size_t off = 0; off < data.size(); off += 65536)
                        up.write(std::span(data).subspan(off, std::min<std::size_t>(65536, data.size() - off)));
                    up.commit("t" + std::to_string(t) + "-" + std::to_string(k), false);
                }
            } catch (const std::exception&) {
                failures.fetch_add(1);
            }
        });
    for (auto& th : threads) th.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(entries(dir).size() == static_cast<std::size_t>(n) * 3);
    for (int t = 0; t < n; ++t)
        for (int k = 0; k < 3; ++k)
            BOOST_TEST((read_all(store, "t" + std::to_string(t) + "-" + std::to_string(k)) ==
                        pattern((1 << 20) + static_cast<std::size_t>(t) * 1000 + static_cast<std::size_t>(k),
                                static_cast<std::uint32_t>(t * 10 + k))));
}

// Batches (docs/protocol.md 4.4.1): staged in one directory, visible all together or not at all.
BOOST_FIXTURE_TEST_CASE(batch_commits_all_files_and_leaves_no_staging, Fixture) {
    {
        auto b = store.begin_batch();
        b.add(pattern(4096, 1));
        b.add({});  // an empty file
        b.add(pattern(100, 3));
        BOOST_TEST(b.count() == 3u);
        BOOST_TEST(entries(dir).size() == 1u);  // only the staging directory so far
        b.commit({"a", "b", "c"}, false);
        b.finish();
    }
    BOOST_TEST(entries(dir) == (std::set<std::string>{"a", "b", "c"}), boost::test_tools::per_element());
    BOOST_TEST((read_all(store, "a") == pattern(4096, 1)));
    BOOST_TEST(store.open("b").size() == 0u);
    struct stat st {};
    BOOST_REQUIRE(::stat((dir + "/c").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_FIXTURE_TEST_CASE(batch_not_committed_leaves_nothing, Fixture) {
    {
        auto b = store.begin_batch();
        b.add(pattern(10, 1));
    }
    BOOST_TEST(entries(dir).empty());
}

BOOST_FIXTURE_TEST_CASE(batch_clash_undoes_the_renames_already_done, Fixture) {
    upload(store, "taken", pattern(7, 9));
    {
        auto b = store.begin_batch();
        b.add(pattern(10, 1));
        b.add(pattern(10, 2));
        b.add(pattern(10, 3));
        BOOST_TEST((sfts::test::kind_of([&] { b.commit({"x", "taken", "y"}, false); }) == Errc::already_exists));
    }
    BOOST_TEST(entries(dir) == std::set<std::string>{"taken"}, boost::test_tools::per_element());
    BOOST_TEST((read_all(store, "taken") == pattern(7, 9)));
}

BOOST_FIXTURE_TEST_CASE(batch_overwrite_is_undone_without_finish, Fixture) {
    upload(store, "old", pattern(7, 9));
    {
        auto b = store.begin_batch();
        b.add(pattern(10, 1));
        b.add(pattern(10, 2));
        b.commit({"old", "new"}, true);
        BOOST_TEST((read_all(store, "old") == pattern(10, 1)));  // visible once committed
        // no finish(): the metadata did not commit, so the old file comes back
    }
    BOOST_TEST(entries(dir) == std::set<std::string>{"old"}, boost::test_tools::per_element());
    BOOST_TEST((read_all(store, "old") == pattern(7, 9)));
    {
        auto b = store.begin_batch();
        b.add(pattern(10, 1));
        b.commit({"old"}, true);
        b.finish();
    }
    BOOST_TEST(entries(dir) == std::set<std::string>{"old"}, boost::test_tools::per_element());
    BOOST_TEST((read_all(store, "old") == pattern(10, 1)));
}

BOOST_FIXTURE_TEST_CASE(dead_batch_staging_is_removed_at_open_but_a_live_one_is_kept, Fixture) {
    auto live = store.begin_batch();
    live.add(pattern(10, 1));
    fs::create_directory(dir + "/.sfts-tmp-batch-dead");
    test::write_text(dir + "/.sfts-tmp-batch-dead/f0", "x");
    FileStore second(dir);  // as after a crash: another process opening the directory
    auto left = entries(dir);
    BOOST_TEST(left.size() == 1u);  // the live batch's directory, held by its flock
    BOOST_TEST(!left.count(".sfts-tmp-batch-dead"));
    live.commit({"kept"}, false);
    live.finish();
    BOOST_TEST((read_all(store, "kept") == pattern(10, 1)));
}
