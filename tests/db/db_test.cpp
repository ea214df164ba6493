#define BOOST_TEST_MODULE db
#include <boost/test/unit_test.hpp>

#include <openssl/hmac.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <span>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "sfts/db/database.hpp"
#include "sfts/error.hpp"
#include "softhsm_fixture.hpp"

using namespace sfts;
using namespace sfts::db;
using P = Permission;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;  // injected clock (ms)

// The sealing PRF of enrollment secrets: HMAC-SHA256 under a key the database never sees.
std::array<std::uint8_t, 32> hmac_with(std::uint8_t key_byte, std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 32> key{}, out{};
    key.fill(key_byte);
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &n);
    return out;
}
const SealPrf test_seal = [](std::span<const std::uint8_t> d) { return hmac_with(0x5E, d); };
const SealPrf other_seal = [](std::span<const std::uint8_t> d) { return hmac_with(0x99, d); };

std::string file_bytes(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return {};
    std::string out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
    return out;
}

struct Fixture {
    test::TempDir dir;
    std::string path = dir.file("users.db");
    std::unique_ptr<Database> db = Database::open_sqlite(path);
};

auth::ScramVerifier verifier(std::uint8_t seed) {
    return auth::ScramVerifier{std::vector<std::uint8_t>(16, seed), 4096, std::vector<std::uint8_t>(32, seed + 1),
                               std::vector<std::uint8_t>(32, seed + 2)};
}

User user(const std::string& name, const std::string& role = "registered") {
    User u;
    u.name = name;
    u.role = role;
    u.created_ms = kNow;
    return u;
}


std::string file_name(int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "file-%05d.bin", i);
    return buf;
}

FileRecord file(const std::string& name, std::uint64_t size = 42) {
    return FileRecord{name, size, std::vector<std::uint8_t>(32, 0xAB), "alice", kNow,
                      std::vector<std::uint8_t>(384, 0x5A), 0};
}

}  // namespace

// --- permissions and roles --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(permission_names_round_trip) {
    const std::vector<std::pair<P, std::string_view>> names{
        {P::list, "ls"},         {P::upload, "upload"},       {P::download, "download"}, {P::remove, "delete"},
        {P::update, "update"},   {P::overwrite, "overwrite"}, {P::admin, "admin"}};
    BOOST_TEST(all_permissions().size() == names.size());
    for (auto [p, n] : names) {
        BOOST_TEST(permission_name(p) == n);
        BOOST_TEST((permission_from_name(n) == p));
    }
    BOOST_TEST(!permission_from_name("remove").has_value());
    BOOST_TEST(!permission_from_name("").has_value());
    BOOST_TEST(!permission_from_name("LS").has_value());
}

BOOST_FIXTURE_TEST_CASE(seeded_roles_have_exactly_their_permissions, Fixture) {
    // role × permission matrix: 1 = granted.
    struct Row {
        const char* role;
        int ls, upload, download, del, update, overwrite, admin;
    };
    const Row matrix[] = {
        {"admin", 1, 1, 1, 1, 1, 1, 1},
        {"user", 1, 1, 1, 0, 1, 0, 0},
        {"registered", 1, 0, 0, 0, 1, 0, 0},
        {"unregistered", 0, 0, 0, 0, 1, 0, 0},
    };
    BOOST_TEST(db->roles() == (std::vector<std::string>{"admin", "registered", "unregistered", "user"}),
               boost::test_tools::per_element());
    for (const auto& r : matrix) {
        BOOST_TEST_CONTEXT("role " << r.role) {
            auto perms = db->permissions(r.role);
            const std::pair<P, int> cells[] = {{P::list, r.ls},     {P::upload, r.upload},
                                               {P::download, r.download}, {P::remove, r.del},
                                               {P::update, r.update}, {P::overwrite, r.overwrite},
                                               {P::admin, r.admin}};
            for (auto [p, granted] : cells)
                BOOST_TEST(perms.count(p) == static_cast<std::size_t>(granted), "permission " << permission_name(p));
        }
    }
    BOOST_TEST((sfts::test::kind_of([&] { db->permissions("nobody"); }) == Errc::not_found));
}

BOOST_FIXTURE_TEST_CASE(roles_can_be_created_changed_and_deleted, Fixture) {
    db->create_role("auditor", {P::list, P::download});
    BOOST_TEST((db->permissions("auditor") == std::set<P>{P::list, P::download}));
    BOOST_TEST((sfts::test::kind_of([&] { db->create_role("auditor", {}); }) == Errc::already_exists));
    for (const char* bad : {"", "Auditor", "a b", "x/y", "../x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
        BOOST_TEST((sfts::test::kind_of([&] { db->create_role(bad, {}); }) == Errc::invalid_argument), "role '" << bad << "'");

    db->set_permissions("auditor", {P::list});
    BOOST_TEST((db->permissions("auditor") == std::set<P>{P::list}));
    db->set_permissions("auditor", {});
    BOOST_TEST(db->permissions("auditor").empty());  // a role without permissions still exists
    BOOST_TEST((sfts::test::kind_of([&] { db->set_permissions("ghost", {P::list}); }) == Errc::not_found));

    db->create_user(user("carol", "auditor"));
    BOOST_TEST((sfts::test::kind_of([&] { db->delete_role("auditor"); }) == Errc::invalid_argument));
    db->set_role("carol", "user");
    db->delete_role("auditor");
    BOOST_TEST((sfts::test::kind_of([&] { db->permissions("auditor"); }) == Errc::not_found));
    BOOST_TEST((sfts::test::kind_of([&] { db->delete_role("auditor"); }) == Errc::not_found));
    // Re-creating it starts from the new permission set, not the cascaded-away old rows.
    db->create_role("auditor", {P::download});
    BOOST_TEST((db->permissions("auditor") == std::set<P>{P::download}));
}

// --- users -----------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(user_lifecycle, Fixture) {
    BOOST_TEST(!db->find_user("alice").has_value());
    User a = user("alice");
    a.must_change_password = true;
    db->create_user(a);
    BOOST_TEST((sfts::test::kind_of([&] { db->create_user(user("alice", "admin")); }) == Errc::already_exists));

    auto found = db->find_user("alice");
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST((*found == a));
    BOOST_TEST(!found->verifier.has_value());
    BOOST_TEST(found->must_change_password);

    db->set_verifier("alice", verifier(7), kNow + 5);
    found = db->find_user("alice");
    BOOST_REQUIRE(found->verifier.has_value());
    BOOST_TEST((*found->verifier == verifier(7)));
    BOOST_TEST(found->password_changed_ms == kNow + 5);
    BOOST_TEST(!found->must_change_password);  // set_verifier clears it
    BOOST_TEST((sfts::test::kind_of([&] { db->set_verifier("bob", verifier(1), kNow); }) == Errc::not_found));
    BOOST_TEST((sfts::test::kind_of([&] { db->set_verifier("alice", auth::ScramVerifier{}, kNow); }) == Errc::invalid_argument));

    db->set_role("alice", "user");
    BOOST_TEST(db->find_user("alice")->role == "user");
    BOOST_TEST((sfts::test::kind_of([&] { db->set_role("alice", "superuser"); }) == Errc::not_found));
    BOOST_TEST((sfts::test::kind_of([&] { db->set_role("bob", "user"); }) == Errc::not_found));
    BOOST_TEST(db->find_user("alice")->role == "user");

    db->set_disabled("alice", true);
    BOOST_TEST(db->find_user("alice")->disabled);
    db->set_disabled("alice", false);
    BOOST_TEST(!db->find_user("alice")->disabled);
    db->set_must_change_password("alice", true);
    BOOST_TEST(db->find_user("alice")->must_change_password);
    BOOST_TEST((sfts::test::kind_of([&] { db->set_disabled("bob", true); }) == Errc::not_found));
    BOOST_TEST((sfts::test::kind_of([&] { db->set_must_change_password("bob", true); }) == Errc::not_found));

    User b = user("bob", "admin");
    b.verifier = verifier(9);
    b.password_changed_ms = kNow;
    db->create_user(b);
    auto all = db->list_users();
    BOOST_REQUIRE(all.size() == 2u);
    BOOST_TEST(all[0].name == "alice");
    BOOST_TEST((all[1] == b));

    db->delete_user("alice");
    BOOST_TEST(!db->find_user("alice").has_value());
    BOOST_TEST((sfts::test::kind_of([&] { db->delete_user("alice"); }) == Errc::not_found));
    BOOST_TEST(db->list_users().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(unknown_role_and_bad_names_are_rejected, Fixture) {
    BOOST_TEST((sfts::test::kind_of([&] { db->create_user(user("dave", "superuser")); }) == Errc::not_found));
    BOOST_TEST((sfts::test::kind_of([&] { db->create_user(user("dave", "Bad Role")); }) == Errc::invalid_argument));
    BOOST_TEST(!db->find_user("dave").has_value());
    for (std::string bad : {std::string(""), std::string("a\nb"), std::string("x\0y", 3), std::string("\xc0\xae"),
                            std::string(65, 'u')})
        BOOST_TEST((sfts::test::kind_of([&] { db->create_user(user(bad)); }) == Errc::invalid_argument));
    db->create_user(user(std::string(64, 'u')));  // the limit itself is fine
    db->create_user(user("Zoë O'Brien; DROP TABLE users"));  // bound, never spliced
    BOOST_TEST(db->find_user("Zoë O'Brien; DROP TABLE users").has_value());
    BOOST_TEST(db->list_users().size() == 2u);
}

// --- enrollment tokens -----------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(enrollment_token_lifecycle, Fixture) {
    db->create_user(user("alice", "unregistered"));
    auto t = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
    BOOST_TEST(t.token.id.size() == 32u);
    BOOST_TEST(t.token.id.find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(t.secret.size() == 43u);  // 32 bytes, base64url, no padding
    BOOST_TEST(std::string(t.secret.view()).find_first_not_of(
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
    BOOST_TEST(t.token.username == "alice");
    BOOST_TEST(t.token.created_ms == kNow);
    BOOST_TEST(!t.token.used_ms.has_value());

    // The listing never carries the secret; the token is there as created.
    auto list = db->list_enrollment_tokens();
    BOOST_REQUIRE(list.size() == 1u);
    BOOST_TEST((list[0] == t.token));

    auto s = db->enrollment_token_secret(t.token.id, "alice", kNow + 1, test_seal);
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST(s->view() == t.secret.view());
    BOOST_TEST(!db->enrollment_token_secret(t.token.id, "mallory", kNow + 1, test_seal).has_value());
    BOOST_TEST(!db->enrollment_token_secret("00000000000000000000000000000000", "alice", kNow + 1, test_seal).has_value());
    BOOST_TEST(!db->enrollment_token_secret(t.token.id, "alice", kNow + 60'000, test_seal).has_value());  // expired

    BOOST_TEST(db->consume_enrollment_token(t.token.id, kNow + 2));
    BOOST_TEST(!db->consume_enrollment_token(t.token.id, kNow + 3));
    BOOST_TEST(!db->enrollment_token_secret(t.token.id, "alice", kNow + 4, test_seal).has_value());
    list = db->list_enrollment_tokens();
    BOOST_REQUIRE(list.size() == 1u);
    BOOST_TEST((list[0].used_ms == std::optional<std::int64_t>(kNow + 2)));

    // Two tokens never share a secret or an id.
    auto t2 = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
    BOOST_TEST(t2.token.id != t.token.id);
    BOOST_TEST(t2.secret.view() != t.secret.view());
    BOOST_TEST((sfts::test::kind_of([&] { db->create_enrollment_token("alice", kNow, kNow, test_seal); }) == Errc::invalid_argument));
}

BOOST_FIXTURE_TEST_CASE(token_secret_is_stored_only_sealed, Fixture) {
    auto t = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
    const std::string secret(t.secret.view());
    BOOST_TEST(secret.size() == 43u);
    // With the right key the secret comes back; with any other it is a different one.
    BOOST_TEST(db->enrollment_token_secret(t.token.id, "alice", kNow + 1, test_seal)->view() == secret);
    BOOST_TEST(db->enrollment_token_secret(t.token.id, "alice", kNow + 1, other_seal)->view() != secret);
    // The file (and its WAL) never holds the secret, in any encoding of it.
    db.reset();
    for (const auto& f : {path, path + "-wal"}) BOOST_TEST(file_bytes(f).find(secret) == std::string::npos);
    sqlite3* raw = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> c(raw, sqlite3_close);
    int clear_columns = -1;
    sqlite3_exec(
        c.get(), "SELECT COUNT(*) FROM pragma_table_info('enrollment_tokens') WHERE name = 'secret'",
        [](void* out, int, char** v, char**) { *static_cast<int*>(out) = std::atoi(v[0]); return 0; }, &clear_columns,
        nullptr);
    BOOST_TEST(clear_columns == 0);
}

BOOST_AUTO_TEST_CASE(a_version_3_database_voids_its_clear_token_secrets) {
    test::TempDir dir;
    const std::string path = dir.file("old.db");
    const std::string clear = "Clear-Secret-From-Version-3-xxxxxxxxxxxxxxx";
    {
        auto db = Database::open_sqlite(path);
        db->create_user(user("alice"));
    }
    {  // back to what version 3 had: the secret in clear, one open token and one used one
        sqlite3* raw = nullptr;
        BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
        std::unique_ptr<sqlite3, int (*)(sqlite3*)> c(raw, sqlite3_close);
        const std::string sql =
            "DROP TABLE enrollment_tokens;"
            " CREATE TABLE enrollment_tokens (id VARCHAR(64) PRIMARY KEY, username VARCHAR(64) NOT NULL,"
            " secret VARCHAR(64) NOT NULL, expires_ms BIGINT NOT NULL, used_ms BIGINT, created_ms BIGINT NOT NULL);"
            " INSERT INTO enrollment_tokens VALUES ('00aa', 'alice', '" + clear + "', " + std::to_string(kNow + 60'000) +
            ", NULL, " + std::to_string(kNow) + ");"
            " INSERT INTO enrollment_tokens VALUES ('00bb', 'alice', 'another-clear-secret', " +
            std::to_string(kNow + 60'000) + ", " + std::to_string(kNow + 5) + ", " + std::to_string(kNow) + ");"
            " UPDATE schema_version SET version = 3";
        BOOST_REQUIRE(sqlite3_exec(c.get(), sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        BOOST_REQUIRE(file_bytes(path).find(clear) != std::string::npos ||
                      file_bytes(path + "-wal").find(clear) != std::string::npos);
    }
    {
        auto db = Database::open_sqlite(path);
        auto list = db->list_enrollment_tokens();
        BOOST_REQUIRE(list.size() == 2u);
        BOOST_TEST(list[0].id == "00aa");
        BOOST_TEST(list[0].voided);  // was open: its secret sat in the file in clear
        BOOST_TEST(!list[1].voided);  // was used: nothing to void
        BOOST_TEST(list[1].used_ms.has_value());
        // No secret, whatever key: a voided token never enrolls.
        BOOST_TEST(!db->enrollment_token_secret("00aa", "alice", kNow + 1, test_seal).has_value());
        BOOST_TEST(!db->consume_enrollment_token("00bb", kNow + 1));
        // New tokens work as usual.
        auto t = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
        BOOST_TEST(db->enrollment_token_secret(t.token.id, "alice", kNow + 1, test_seal).has_value());
    }
    // Neither the tables nor the file's free pages nor the WAL keep the old clear values.
    BOOST_TEST(file_bytes(path).find(clear) == std::string::npos);
    BOOST_TEST(file_bytes(path + "-wal").find(clear) == std::string::npos);
    BOOST_TEST(file_bytes(path).find("another-clear-secret") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(expired_token_is_refused, Fixture) {
    auto t = db->create_enrollment_token("bob", kNow + 1000, kNow, test_seal);
    BOOST_TEST(db->enrollment_token_secret(t.token.id, "bob", kNow + 999, test_seal).has_value());
    BOOST_TEST(!db->enrollment_token_secret(t.token.id, "bob", kNow + 1000, test_seal).has_value());
    BOOST_TEST(!db->consume_enrollment_token(t.token.id, kNow + 1000));
    BOOST_TEST(!db->consume_enrollment_token(t.token.id, kNow + 5000));
    BOOST_TEST(!db->list_enrollment_tokens().front().used_ms.has_value());
}

BOOST_FIXTURE_TEST_CASE(revoked_token_is_refused, Fixture) {
    auto t = db->create_enrollment_token("bob", kNow + 60'000, kNow, test_seal);
    db->revoke_enrollment_token(t.token.id);
    BOOST_TEST(!db->enrollment_token_secret(t.token.id, "bob", kNow + 1, test_seal).has_value());
    BOOST_TEST(!db->consume_enrollment_token(t.token.id, kNow + 1));
    BOOST_TEST(db->list_enrollment_tokens().empty());
    BOOST_TEST((sfts::test::kind_of([&] { db->revoke_enrollment_token(t.token.id); }) == Errc::not_found));
}

BOOST_FIXTURE_TEST_CASE(deleting_a_user_drops_their_tokens, Fixture) {
    db->create_user(user("alice"));
    auto t = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
    db->delete_user("alice");
    db->create_user(user("alice"));
    BOOST_TEST(!db->enrollment_token_secret(t.token.id, "alice", kNow + 1, test_seal).has_value());
}

BOOST_FIXTURE_TEST_CASE(racing_consumers_exactly_one_wins, Fixture) {
    // Two Database objects as two servers sharing the file, four threads on each.
    auto other = Database::open_sqlite(path);
    for (int round = 0; round < 10; ++round) {
        auto t = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
        std::atomic<int> wins{0}, errors{0}, ready{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&, i] {
                Database& d = i % 2 ? *other : *db;
                ready.fetch_add(1);
                while (ready.load() < 8) std::this_thread::yield();
                try {
                    if (d.consume_enrollment_token(t.token.id, kNow + 10)) wins.fetch_add(1);
                } catch (const Error&) {
                    errors.fetch_add(1);
                }
            });
        for (auto& th : threads) th.join();
        BOOST_TEST(wins.load() == 1);
        BOOST_TEST(errors.load() == 0);
    }
}

// --- files -----------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(file_records_put_find_remove, Fixture) {
    BOOST_TEST(!db->find_file("a.txt").has_value());
    auto f = file("a.txt");
    db->put_file(f);
    BOOST_TEST((db->find_file("a.txt") == f));
    f.size = 7;
    f.uploader = "bob";
    f.sha256.assign(32, 0x11);
    db->put_file(f);  // replace
    BOOST_TEST((db->find_file("a.txt") == f));
    BOOST_TEST(db->list_files("", 10).size() == 1u);

    auto g = file("empty-signature", 0);
    g.upload_signature.clear();
    db->put_file(g);
    BOOST_TEST((db->find_file("empty-signature") == g));

    auto big = file("big", std::uint64_t{1} << 40);
    db->put_file(big);
    BOOST_TEST(db->find_file("big")->size == std::uint64_t{1} << 40);

    BOOST_TEST(db->remove_file("a.txt"));
    BOOST_TEST(!db->remove_file("a.txt"));
    BOOST_TEST(!db->find_file("a.txt").has_value());
    BOOST_TEST((sfts::test::kind_of([&] { db->put_file(file("../etc")); }) == Errc::invalid_argument));
    BOOST_TEST((sfts::test::kind_of([&] { db->put_file(file("")); }) == Errc::invalid_argument));
}

BatchRecord batch_row() {
    return BatchRecord{0, "alice", kNow, std::vector<std::uint8_t>(16, 0x22), std::vector<std::uint8_t>{1, 2, 3},
                       std::vector<std::uint8_t>(384, 0x5B), kNow + 5};
}

BOOST_FIXTURE_TEST_CASE(batches_record_every_file_in_one_transaction, Fixture) {
    db->put_file(file("f1", 1));  // replaced by the batch
    std::vector<FileRecord> files;
    for (int i = 0; i < 300; ++i) files.push_back(file("f" + std::to_string(i), static_cast<std::uint64_t>(i)));
    const auto id = db->put_batch(batch_row(), files);
    BOOST_TEST(id == 1);
    auto want = batch_row();
    want.id = id;
    BOOST_TEST((db->find_batch(id) == want));
    BOOST_TEST(!db->find_batch(id + 1).has_value());
    BOOST_TEST(db->find_file("f1")->batch_id == id);
    BOOST_TEST(db->find_file("f299")->size == 299u);
    BOOST_TEST(db->list_files("", 1000).size() == 300u);
    BOOST_TEST(db->put_batch(batch_row(), {file("g")}) == id + 1);
    // All or nothing: one bad row and nothing of the batch is recorded.
    std::vector<FileRecord> bad{file("h1"), file("h2")};
    bad[1].name = "../h2";
    BOOST_TEST((sfts::test::kind_of([&] { db->put_batch(batch_row(), bad); }) == Errc::invalid_argument));
    BOOST_TEST(!db->find_file("h1").has_value());
    BOOST_TEST(!db->find_batch(id + 2).has_value());
    BOOST_TEST(db->usage("alice").files == 301u);
}

BOOST_AUTO_TEST_CASE(a_version_2_database_gains_the_batch_schema) {
    test::TempDir dir;
    const std::string path = dir.file("old.db");
    {
        auto db = Database::open_sqlite(path);
        db->put_file(file("old.txt"));
    }
    {  // back to what version 2 had: no batches table, no files.batch_id
        sqlite3* raw = nullptr;
        BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
        std::unique_ptr<sqlite3, int (*)(sqlite3*)> c(raw, sqlite3_close);
        BOOST_REQUIRE(sqlite3_exec(c.get(),
                                   "DROP TABLE batches; ALTER TABLE files DROP COLUMN batch_id;"
                                   " UPDATE schema_version SET version = 2",
                                   nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    auto db = Database::open_sqlite(path);
    BOOST_TEST(db->find_file("old.txt")->batch_id == 0);
    const auto id = db->put_batch(batch_row(), {file("new.txt")});
    BOOST_TEST(db->find_file("new.txt")->batch_id == id);
    BOOST_TEST((db->find_file("old.txt") == file("old.txt")));
}

BOOST_FIXTURE_TEST_CASE(file_listing_pages_in_name_order, Fixture) {
    constexpr int n = 2500;
    // Inserted in a scrambled order; listed in name order.
    for (int i = 0; i < n; ++i) db->put_file(file(file_name((i * 7919) % n)));
    std::vector<std::string> seen;
    std::string cursor;
    std::vector<std::size_t> page_sizes;
    for (;;) {
        auto page = db->list_files(cursor, 1000);
        page_sizes.push_back(page.size());
        if (page.empty()) break;
        for (auto& f : page) seen.push_back(f.name);
        cursor = page.back().name;
        if (page.size() < 1000) break;
    }
    BOOST_TEST(page_sizes == (std::vector<std::size_t>{1000, 1000, 500}), boost::test_tools::per_element());
    BOOST_REQUIRE(seen.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) BOOST_TEST(seen[static_cast<std::size_t>(i)] == file_name(i));

    // Cursor semantics: strictly after, and the cursor need not exist.
    auto p = db->list_files(file_name(41), 2);
    BOOST_REQUIRE(p.size() == 2u);
    BOOST_TEST(p[0].name == file_name(42));
    BOOST_TEST(p[1].name == file_name(43));
    p = db->list_files("file-00041.bin~", 1);  // a cursor that names no file: between 41 and 42
    BOOST_REQUIRE(p.size() == 1u);
    BOOST_TEST(p[0].name == file_name(42));
    BOOST_TEST(db->list_files(file_name(n - 1), 1000).empty());
    BOOST_TEST(db->list_files("", 0).empty());
    BOOST_TEST(db->list_files("zzz", 1000).empty());
    BOOST_TEST(db->list_files("", 1).front().name == file_name(0));
}

// --- persistence and sharing -----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(database_survives_reopen, Fixture) {
    db->create_role("auditor", {P::list});
    User a = user("alice", "auditor");
    a.verifier = verifier(3);
    db->create_user(a);
    auto t = db->create_enrollment_token("alice", kNow + 60'000, kNow, test_seal);
    db->put_file(file("kept"));
    db.reset();

    db = Database::open_sqlite(path);
    BOOST_TEST((db->find_user("alice") == a));
    BOOST_TEST((db->permissions("auditor") == std::set<P>{P::list}));
    BOOST_TEST(db->roles().size() == 5u);  // seeding happened once only
    BOOST_TEST((db->permissions("user") == std::set<P>{P::list, P::upload, P::download, P::update}));
    auto s = db->enrollment_token_secret(t.token.id, "alice", kNow + 1, test_seal);
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST(s->view() == t.secret.view());
    BOOST_TEST((db->find_file("kept") == file("kept")));
}

BOOST_FIXTURE_TEST_CASE(second_database_object_sees_writes_of_the_first, Fixture) {
    auto other = Database::open_sqlite(path);
    db->create_user(user("alice"));
    BOOST_TEST(other->find_user("alice").has_value());
    other->set_role("alice", "admin");
    BOOST_TEST(db->find_user("alice")->role == "admin");
    db->put_file(file("shared"));
    BOOST_TEST(other->find_file("shared").has_value());
    other->create_role("ops", {P::admin});
    BOOST_TEST((db->permissions("ops") == std::set<P>{P::admin}));
}

BOOST_FIXTURE_TEST_CASE(concurrent_writers_do_not_fail, Fixture) {
    // Eight threads, half on a second Database object (another server), writing and reading
    // at once: nothing may fail with "database is locked".
    auto other = Database::open_sqlite(path);
    constexpr int per_thread = 40;
    std::atomic<int> failures{0};
    std::string first_failure;
    std::mutex m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            Database& d = t % 2 ? *other : *db;
            try {
                for (int i = 0; i < per_thread; ++i) {
                    std::string name = "u" + std::to_string(t) + "-" + std::to_string(i);
                    d.create_user(user(name));
                    d.set_verifier(name, verifier(static_cast<std::uint8_t>(i)), kNow + i);
                    d.put_file(file("f" + std::to_string(t) + "-" + std::to_string(i)));
                    auto tok = d.create_enrollment_token(name, kNow + 1000, kNow, test_seal);
                    if (!d.consume_enrollment_token(tok.token.id, kNow + 1)) throw Error(Errc::internal, "lost");
                    if (!d.find_user(name)) throw Error(Errc::internal, "missing");
                    d.list_files("", 50);
                }
            } catch (const std::exception& e) {
                failures.fetch_add(1);
                std::lock_guard lk(m);
                first_failure = e.what();
            }
        });
    for (auto& th : threads) th.join();
    BOOST_TEST(failures.load() == 0, first_failure);
    BOOST_TEST(db->list_users().size() == 8u * per_thread);
    BOOST_TEST(other->list_files("", 1000).size() == 8u * per_thread);
}

BOOST_AUTO_TEST_CASE(unopenable_database_is_an_io_error) {
    test::TempDir dir;
    BOOST_TEST((sfts::test::kind_of([&] { Database::open_sqlite(dir.file("missing/dir/users.db")); }) == Errc::io));
}

// Another process holding the write lock past the busy timeout (sqlite3 in BEGIN EXCLUSIVE):
// a bounded wait, then unavailable with a message saying so; reads go on (WAL); writes work
// again once the lock is gone, on the same Database (docs/security-testing.md).
BOOST_FIXTURE_TEST_CASE(write_lock_held_elsewhere_is_unavailable_then_recovers, Fixture) {
    db->put_file(file("before.bin"));
    sqlite3* raw = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> other(raw, sqlite3_close);
    BOOST_REQUIRE(sqlite3_exec(other.get(), "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
    auto t0 = std::chrono::steady_clock::now();
    std::string message;
    BOOST_TEST((sfts::test::kind_of([&] { db->put_file(file("during.bin")); }, &message) == Errc::unavailable));
    auto waited = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(message.find("locked by another process") != std::string::npos, message);
    BOOST_TEST((waited >= std::chrono::seconds(4) && waited < std::chrono::seconds(30)));
    BOOST_TEST(db->find_file("before.bin").has_value());  // readers are not blocked
    BOOST_REQUIRE(sqlite3_exec(other.get(), "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    db->put_file(file("after.bin"));
    BOOST_TEST(!db->find_file("during.bin").has_value());
    BOOST_TEST(db->find_file("after.bin").has_value());
}
