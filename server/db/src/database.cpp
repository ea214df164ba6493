// Portable SQL: "$n" placeholders (PostgreSQL's syntax, and a named parameter that SQLite
// numbers in order of first appearance, so both bind the same positions), no INSERT OR
// REPLACE / ON CONFLICT, no SQLite-only types; only the BLOB type name differs per dialect.
//
// Concurrency. A small pool of sessions, one per concurrent caller up to kMaxSessions (callers
// beyond that wait; Poco's SessionPool would throw instead), so readers run in parallel under
// WAL. Writers of one Database are queued on a mutex when the backend is SQLite: SQLite admits
// one writer at a time anyway, and a fair in-process queue beats its busy handler, which
// sleep-polls. Writers in other processes or other Database objects on the same file meet
// the 5 s busy timeout. Every multi-statement write transaction begins with a write, so it
// takes the write lock before reading anything and can never hit SQLITE_BUSY_SNAPSHOT
// (a deferred transaction that read an older snapshot cannot be upgraded; the busy handler is
// not even called for that case).
#include "sfts/db/database.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Data/Transaction.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <sys/stat.h>

#include <condition_variable>
#include <mutex>

#include "sfts/error.hpp"
#include "sfts/ossl.hpp"
#include "sfts/protocol/limits.hpp"
#include "sfts/protocol/text.hpp"

using namespace Poco::Data::Keywords;
using Poco::Int64;
using Poco::Data::BLOB;
using Poco::Data::Session;
using Poco::Data::Statement;
using Poco::Data::Transaction;

namespace sfts::db {

namespace {

constexpr int kSchemaVersion = 4;
constexpr std::size_t kMaxSessions = 8;
constexpr int kBusyTimeoutMs = 5000;
// POCO's SQLite connector retries a failing open until this many seconds have passed (60 by
// default); a missing directory is caught before that, see check_sqlite_path.
constexpr std::size_t kLoginTimeoutS = 5;

template <typename F>
auto db_call(const char* what, F&& f) {
    try {
        return f();
    } catch (const Poco::Data::SQLite::DBLockedException&) {
        // Another process holds the write lock past the busy timeout (e.g. sqlite3 in BEGIN
        // EXCLUSIVE): the service is degraded for a while, nothing is damaged; worth a retry.
        throw Error(Errc::unavailable, std::string("user database: ") + what + ": locked by another process for more than " +
                                           std::to_string(kBusyTimeoutMs / 1000) + " s; try again later");
    } catch (const Poco::Data::SQLite::TableLockedException&) {
        throw Error(Errc::unavailable, std::string("user database: ") + what + ": locked by another process; try again later");
    } catch (const Poco::Data::SQLite::ReadOnlyException&) {
        throw Error(Errc::unavailable, std::string("user database: ") + what + ": the database is read-only on the server");
    } catch (const Poco::Data::SQLite::DatabaseFullException&) {
        throw Error(Errc::unavailable, std::string("user database: ") + what + ": the server's disk is full");
    } catch (const Poco::Data::SQLite::IOErrorException&) {
        // EIO, EPERM (chattr +i), EROFS on the database or its WAL: the client learns what broke,
        // the server's log has the same line; the connection is replaced (Lease::discard).
        throw Error(Errc::unavailable, std::string("user database: ") + what + ": disk I/O error on the server");
    } catch (const Poco::Exception& e) {
        // displayText names the statement, never bound values: secrets are always bound.
        throw Error(Errc::io, std::string("user database: ") + what + ": " + e.displayText());
    }
}

BLOB to_blob(const std::vector<std::uint8_t>& v) {
    return BLOB(reinterpret_cast<const unsigned char*>(v.data()), v.size());
}
std::vector<std::uint8_t> from_blob(const BLOB& b) { return std::vector<std::uint8_t>(b.begin(), b.end()); }

std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    ossl::check(RAND_bytes(v.data(), static_cast<int>(n)), "RAND_bytes");
    return v;
}

// base64url without padding (RFC 4648 section 5).
Secret base64url(const std::vector<std::uint8_t>& raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), raw.data(), static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    Secret s(out);
    OPENSSL_cleanse(out.data(), out.size());
    return s;
}

void check_user_name(const std::string& name) {
    if (name.size() > proto::max_user_bytes || !proto::text_problem(name, proto::TextRule::name).empty())
        fail(Errc::invalid_argument, "invalid user name");
}

void check_role_name(const std::string& role) {
    if (!valid_role_name(role)) fail(Errc::invalid_argument, "invalid role name (allowed: [a-z0-9_-]{1,32})");
}

void check_file_name(const std::string& name) {
    if (name.size() > proto::max_filename_bytes || !proto::text_problem(name, proto::TextRule::filename).empty())
        fail(Errc::invalid_argument, "invalid file name");
}

bool exists(Session& s, const char* sql, const std::string& key) {
    std::string k = key;
    std::vector<Int64> one;
    s << sql, use(k), into(one), now;
    return !one.empty();
}
bool user_exists(Session& s, const std::string& name) {
    return exists(s, "SELECT 1 FROM users WHERE name = $1", name);
}
bool role_exists(Session& s, const std::string& role) {
    return exists(s, "SELECT 1 FROM roles WHERE name = $1", role);
}

void insert_permissions(Session& s, const std::string& role, const std::set<Permission>& perms) {
    std::string r = role;
    for (Permission p : perms) {
        std::string n(permission_name(p));
        s << "INSERT INTO role_permissions (role, permission) VALUES ($1, $2)", use(r), use(n), now;
    }
}

// Version 1. Empty byte strings are stored as NULL (the SQLite binder turns an empty BLOB into
// NULL), so the BLOB columns are nullable and NULL reads back as empty.
std::vector<std::string> schema_v1(const std::string& blob) {
    return {
        "CREATE TABLE roles (name VARCHAR(32) PRIMARY KEY)",
        "CREATE TABLE role_permissions ("
        " role VARCHAR(32) NOT NULL REFERENCES roles(name) ON DELETE CASCADE,"
        " permission VARCHAR(16) NOT NULL,"
        " PRIMARY KEY (role, permission))",
        "CREATE TABLE users ("
        " name VARCHAR(64) PRIMARY KEY,"
        " role VARCHAR(32) NOT NULL REFERENCES roles(name),"
        " scram_salt " + blob + ", scram_iterations BIGINT, scram_stored_key " + blob + ", scram_server_key " + blob + ","
        " disabled INTEGER NOT NULL DEFAULT 0,"
        " must_change_password INTEGER NOT NULL DEFAULT 0,"
        " created_ms BIGINT NOT NULL,"
        " password_changed_ms BIGINT NOT NULL DEFAULT 0)",
        "CREATE INDEX users_role ON users (role)",
        // secret: the token's secret as issued. Not hashed on purpose: it is the key of the
        // enrollment HMAC, which the server must compute. Never logged.
        "CREATE TABLE enrollment_tokens ("
        " id VARCHAR(64) PRIMARY KEY,"
        " username VARCHAR(64) NOT NULL,"
        " secret VARCHAR(64) NOT NULL,"
        " expires_ms BIGINT NOT NULL,"
        " used_ms BIGINT,"
        " created_ms BIGINT NOT NULL)",
        "CREATE INDEX enrollment_tokens_username ON enrollment_tokens (username)",
        "CREATE TABLE files ("
        " name VARCHAR(255) PRIMARY KEY,"
        " size BIGINT NOT NULL,"
        " sha256 " + blob + ","
        " uploader VARCHAR(64) NOT NULL,"
        " uploaded_ms BIGINT NOT NULL,"
        " upload_signature " + blob + ")",
    };
}

// Version 2: abuse resistance. Failures and blocks are in the database so that a restart
// forgives no one and servers sharing the database share them.
std::vector<std::string> schema_v2() {
    return {
        "CREATE TABLE auth_failures (source VARCHAR(64) NOT NULL, at_ms BIGINT NOT NULL, kind VARCHAR(32) NOT NULL)",
        "CREATE INDEX auth_failures_source ON auth_failures (source, at_ms)",
        // A row outlives its block (until_ms in the past) to remember repeat offenders.
        "CREATE TABLE blocks ("
        " source VARCHAR(64) PRIMARY KEY,"
        " until_ms BIGINT NOT NULL,"
        " reason VARCHAR(255) NOT NULL,"
        " offenses INTEGER NOT NULL,"
        " created_ms BIGINT NOT NULL)",
        "ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE users ADD COLUMN last_failed_ms BIGINT NOT NULL DEFAULT 0",
        "CREATE INDEX files_uploader ON files (uploader)",
    };
}

// Version 3: batch uploads. A file stored by a batch points at the manifest its uploader signed.
std::vector<std::string> schema_v3(const std::string& blob) {
    return {
        "CREATE TABLE batches ("
        " id BIGINT PRIMARY KEY,"
        " uploader VARCHAR(64) NOT NULL,"
        " timestamp_ms BIGINT NOT NULL,"
        " nonce " + blob + " NOT NULL,"
        " record " + blob + " NOT NULL,"
        " signature " + blob + " NOT NULL,"
        " stored_ms BIGINT NOT NULL)",
        "ALTER TABLE files ADD COLUMN batch_id BIGINT",
    };
}

// Version 4: one-time enrollment secrets are sealed (Database::create_enrollment_token), never
// stored in clear. The table is rebuilt without the clear column; a token that was still open
// is kept but voided, because its secret has been in the file (and maybe in backups) in clear:
// the administrator issues a new one. The connection runs with secure_delete, and the WAL is
// truncated after the upgrade, so the old values do not linger in free pages.
std::vector<std::string> schema_v4(const std::string& blob) {
    return {
        "CREATE TABLE enrollment_tokens_v4 ("
        " id VARCHAR(64) PRIMARY KEY,"
        " username VARCHAR(64) NOT NULL,"
        " sealed " + blob + ","
        " expires_ms BIGINT NOT NULL,"
        " used_ms BIGINT,"
        " created_ms BIGINT NOT NULL,"
        " voided INTEGER NOT NULL DEFAULT 0)",
        "INSERT INTO enrollment_tokens_v4 (id, username, sealed, expires_ms, used_ms, created_ms, voided)"
        " SELECT id, username, NULL, expires_ms, used_ms, created_ms, CASE WHEN used_ms IS NULL THEN 1 ELSE 0 END"
        " FROM enrollment_tokens",
        "DROP TABLE enrollment_tokens",
        "ALTER TABLE enrollment_tokens_v4 RENAME TO enrollment_tokens",
        "CREATE INDEX enrollment_tokens_username ON enrollment_tokens (username)",
    };
}

constexpr std::string_view kSealDomain = "sfts-enrollment-seal-v1";

// raw XOR prf(lp(domain) || lp(id) || lp(username)): seals and unseals.
std::vector<std::uint8_t> seal_xor(const SealPrf& prf, const std::string& id, const std::string& username,
                                   const std::vector<std::uint8_t>& raw) {
    if (!prf) fail(Errc::internal, "no sealing key for enrollment secrets");
    std::vector<std::uint8_t> in;
    auto lp = [&](std::string_view s) {
        auto n = static_cast<std::uint32_t>(s.size());
        for (int shift = 24; shift >= 0; shift -= 8) in.push_back(static_cast<std::uint8_t>(n >> shift));
        in.insert(in.end(), s.begin(), s.end());
    };
    lp(kSealDomain);
    lp(id);
    lp(username);
    auto pad = prf(in);
    if (raw.size() != pad.size()) fail(Errc::integrity, "sealed enrollment secret has the wrong size");
    std::vector<std::uint8_t> out(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) out[i] = raw[i] ^ pad[i];
    OPENSSL_cleanse(pad.data(), pad.size());
    return out;
}

struct SeedRole {
    const char* name;
    std::set<Permission> perms;
};
std::vector<SeedRole> seed_roles() {
    using P = Permission;
    return {
        {"admin", {P::list, P::upload, P::download, P::remove, P::update, P::overwrite, P::admin}},
        {"user", {P::list, P::upload, P::download, P::update}},
        {"registered", {P::list, P::update}},
        {"unregistered", {P::update}},
    };
}

// A database in a directory that does not exist fails at once, not after the login timeout.
void check_sqlite_path(const std::string& path) {
    if (path.empty() || path == ":memory:" || path.starts_with("file:")) return;
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        fail(Errc::io, "user database: directory " + dir + " does not exist");
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Database::Impl {
    std::string connector;
    std::string connection;
    bool sqlite = false;

    std::mutex pool_mutex;
    std::condition_variable pool_cv;
    std::vector<std::unique_ptr<Session>> idle;
    std::size_t live = 0;

    std::mutex write_mutex;  // SQLite only, see the top of this file

    class Lease {
    public:
        Lease(Impl& impl, std::unique_ptr<Session> s) : impl_(impl), s_(std::move(s)) {}
        ~Lease() { impl_.give_back(discard_ ? nullptr : std::move(s_)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Session& operator*() { return *s_; }
        // Not back into the pool: SQLite opens a file it may not write read-only and stays so,
        // and a connection that met a failing disk is best replaced once the fault clears.
        void discard() noexcept { discard_ = true; }

    private:
        Impl& impl_;
        std::unique_ptr<Session> s_;
        bool discard_ = false;
    };

    std::unique_ptr<Session> connect() {
        return db_call("connect", [&] {
            auto s = std::make_unique<Session>(connector, connection, kLoginTimeoutS);
            if (sqlite) {
                // Per connection: these do not persist in the file.
                *s << "PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs), now;
                *s << "PRAGMA foreign_keys = ON", now;
                // FULL: a consumed enrollment token must stay consumed after a power cut.
                *s << "PRAGMA synchronous = FULL", now;
                // Deleted content is overwritten, not left in free pages (schema 4 upgrade).
                *s << "PRAGMA secure_delete = ON", now;
            }
            return s;
        });
    }

    Lease lease() {
        std::unique_lock lk(pool_mutex);
        pool_cv.wait(lk, [&] { return !idle.empty() || live < kMaxSessions; });
        if (!idle.empty()) {
            auto s = std::move(idle.back());
            idle.pop_back();
            return Lease(*this, std::move(s));
        }
        ++live;
        lk.unlock();
        try {
            return Lease(*this, connect());
        } catch (...) {
            give_back(nullptr);
            throw;
        }
    }

    void give_back(std::unique_ptr<Session> s) noexcept {
        bool keep = false;
        try {
            keep = s && s->isConnected() && !s->isTransaction();
            // Opened while the file could not be written (read-only disk, chattr +i): SQLite
            // fell back to read-only and would stay so after the fault clears.
            if (keep && sqlite) keep = sqlite3_db_readonly(Poco::Data::SQLite::Utility::dbHandle(*s), "main") == 0;
        } catch (...) {
        }
        std::lock_guard lk(pool_mutex);
        if (keep)
            idle.push_back(std::move(s));
        else
            --live;
        pool_cv.notify_one();
    }

    template <typename F>
    static auto leased_call(Lease& s, const char* what, F&& f) {
        try {
            return db_call(what, [&] { return f(*s); });
        } catch (const Error& e) {
            if (e.kind() == Errc::io || e.kind() == Errc::unavailable) s.discard();
            throw;
        }
    }

    template <typename F>
    auto read(const char* what, F&& f) {
        auto s = lease();
        return leased_call(s, what, f);
    }

    template <typename F>
    auto write(const char* what, F&& f) {
        std::unique_lock<std::mutex> wl;
        if (sqlite) wl = std::unique_lock(write_mutex);
        auto s = lease();
        return leased_call(s, what, f);
    }

    std::string blob_type() const { return connector == "PostgreSQL" ? "BYTEA" : "BLOB"; }

    // Returns the version the database had before.
    int migrate(Session& s) {
        s << "CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)", now;
        s << "INSERT INTO schema_version (id, version) SELECT 1, 0 "
             "WHERE NOT EXISTS (SELECT 1 FROM schema_version WHERE id = 1)",
            now;
        Transaction tx(s);
        // A write first: whoever gets here second (another server opening the same database)
        // waits for the first to finish migrating, then sees the new version.
        s << "UPDATE schema_version SET version = version WHERE id = 1", now;
        int version = 0;
        s << "SELECT version FROM schema_version WHERE id = 1", into(version), now;
        if (version > kSchemaVersion)
            fail(Errc::unavailable, "user database schema version " + std::to_string(version) +
                                        " is newer than this program supports (" + std::to_string(kSchemaVersion) +
                                        ")");
        if (version < 1) {
            for (const auto& sql : schema_v1(blob_type())) s << sql, now;
            for (const auto& r : seed_roles()) {
                std::string n = r.name;
                s << "INSERT INTO roles (name) VALUES ($1)", use(n), now;
                insert_permissions(s, n, r.perms);
            }
        }
        if (version < 2)
            for (const auto& sql : schema_v2()) s << sql, now;
        if (version < 3)
            for (const auto& sql : schema_v3(blob_type())) s << sql, now;
        if (version < 4)
            for (const auto& sql : schema_v4(blob_type())) s << sql, now;
        int target = kSchemaVersion;
        s << "UPDATE schema_version SET version = $1 WHERE id = 1", use(target), now;
        tx.commit();
        return version;
    }
};

// ---------------------------------------------------------------------------------------------

Database::Database(const std::string& connector, const std::string& connection_string)
    : impl_(std::make_unique<Impl>()) {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
    impl_->connector = connector;
    impl_->connection = connection_string;
    impl_->sqlite = connector == "SQLite" || connector == "sqlite";
    if (impl_->sqlite) check_sqlite_path(connection_string);
    impl_->write("open", [&](Session& s) {
        // Persistent in the file: readers no longer block the writer, nor it them.
        if (impl_->sqlite) s << "PRAGMA journal_mode = WAL", now;
        int before = impl_->migrate(s);
        // The clear secrets of a version-3 database are gone from the tables and (secure_delete)
        // from the main file's free pages; the WAL still holds the old pages until truncated.
        if (impl_->sqlite && before >= 1 && before < 4) s << "PRAGMA wal_checkpoint(TRUNCATE)", now;
        return 0;
    });
}

std::unique_ptr<Database> Database::open_sqlite(const std::string& path) {
    return std::make_unique<Database>("SQLite", path);
}

Database::~Database() = default;

// --- users -----------------------------------------------------------------------------------

namespace {

std::vector<User> select_users(Session& s, const std::string* name) {
    std::vector<std::string> names, roles;
    std::vector<BLOB> salts, stored, server;
    std::vector<Int64> iterations, disabled, must_change, created, changed, failed, last_failed;
    Statement st(s);
    st << "SELECT name, role, scram_salt, scram_iterations, scram_stored_key, scram_server_key,"
          " disabled, must_change_password, created_ms, password_changed_ms, failed_logins, last_failed_ms FROM users";
    std::string n = name ? *name : std::string();
    if (name) st << " WHERE name = $1", use(n);
    st << " ORDER BY name", into(names), into(roles), into(salts), into(iterations), into(stored), into(server),
        into(disabled), into(must_change), into(created), into(changed), into(failed), into(last_failed), now;
    std::vector<User> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        User u;
        u.name = names[i];
        u.role = roles[i];
        if (iterations[i] > 0)  // NULL (read as 0) until a password is set
            u.verifier = auth::ScramVerifier{from_blob(salts[i]), static_cast<std::uint32_t>(iterations[i]),
                                             from_blob(stored[i]), from_blob(server[i])};
        u.disabled = disabled[i] != 0;
        u.must_change_password = must_change[i] != 0;
        u.created_ms = created[i];
        u.password_changed_ms = changed[i];
        u.failed_logins = static_cast<int>(failed[i]);
        u.last_failed_ms = last_failed[i];
        out.push_back(std::move(u));
    }
    return out;
}

void check_verifier(const auth::ScramVerifier& v) {
    if (v.iterations == 0 || v.salt.empty() || v.stored_key.empty() || v.server_key.empty())
        fail(Errc::invalid_argument, "incomplete SCRAM verifier");
}

}  // namespace

std::optional<User> Database::find_user(const std::string& name) {
    auto rows = impl_->read("find user", [&](Session& s) { return select_users(s, &name); });
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

std::vector<User> Database::list_users() {
    return impl_->read("list users", [&](Session& s) { return select_users(s, nullptr); });
}

void Database::create_user(const User& u) {
    check_user_name(u.name);
    check_role_name(u.role);
    if (u.verifier) check_verifier(*u.verifier);
    impl_->write("create user", [&](Session& s) {
        std::string name = u.name, role = u.role;
        BLOB salt, stored, server;
        Poco::Nullable<Int64> iterations;
        if (u.verifier) {
            salt = to_blob(u.verifier->salt);
            stored = to_blob(u.verifier->stored_key);
            server = to_blob(u.verifier->server_key);
            iterations = Int64{u.verifier->iterations};
        }
        int disabled = u.disabled ? 1 : 0, must_change = u.must_change_password ? 1 : 0;
        Int64 created = u.created_ms, changed = u.password_changed_ms;
        try {
            // Inserting and letting the key and the foreign key decide is race-free across
            // servers sharing the database; the reason is looked up only after a refusal.
            s << "INSERT INTO users (name, role, scram_salt, scram_iterations, scram_stored_key, scram_server_key,"
                 " disabled, must_change_password, created_ms, password_changed_ms)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                use(name), use(role), use(salt), use(iterations), use(stored), use(server), use(disabled),
                use(must_change), use(created), use(changed), now;
        } catch (const Poco::Exception&) {
            if (user_exists(s, u.name)) fail(Errc::already_exists, "user " + u.name + " already exists");
            if (!role_exists(s, u.role)) fail(Errc::not_found, "no role " + u.role);
            throw;
        }
        return 0;
    });
}

void Database::set_verifier(const std::string& name, const auth::ScramVerifier& v, std::int64_t now_ms) {
    check_verifier(v);
    std::size_t n = impl_->write("set password", [&](Session& s) {
        BLOB salt = to_blob(v.salt), stored = to_blob(v.stored_key), server = to_blob(v.server_key);
        Int64 iterations = v.iterations, when = now_ms;
        std::string u = name;
        Statement st(s);
        st << "UPDATE users SET scram_salt = $1, scram_iterations = $2, scram_stored_key = $3,"
              " scram_server_key = $4, password_changed_ms = $5, must_change_password = 0 WHERE name = $6",
            use(salt), use(iterations), use(stored), use(server), use(when), use(u);
        return st.execute();
    });
    if (n == 0) fail(Errc::not_found, "no user " + name);
}

void Database::set_role(const std::string& name, const std::string& role) {
    if (!valid_role_name(role)) fail(Errc::not_found, "no role " + role);
    std::size_t n = impl_->write("set role", [&](Session& s) -> std::size_t {
        std::string u = name, r = role;
        try {
            Statement st(s);
            st << "UPDATE users SET role = $1 WHERE name = $2", use(r), use(u);
            return st.execute();
        } catch (const Poco::Exception&) {
            if (!role_exists(s, role)) fail(Errc::not_found, "no role " + role);
            throw;
        }
    });
    if (n == 0) fail(Errc::not_found, "no user " + name);
}

namespace {
std::size_t update_flag(Session& s, const char* sql, const std::string& name, bool value) {
    std::string u = name;
    int v = value ? 1 : 0;
    Statement st(s);
    st << sql, use(v), use(u);
    return st.execute();
}
}  // namespace

void Database::set_disabled(const std::string& name, bool disabled) {
    std::size_t n = impl_->write("disable user", [&](Session& s) {
        return update_flag(s, "UPDATE users SET disabled = $1 WHERE name = $2", name, disabled);
    });
    if (n == 0) fail(Errc::not_found, "no user " + name);
}

void Database::set_must_change_password(const std::string& name, bool v) {
    std::size_t n = impl_->write("set must-change-password", [&](Session& s) {
        return update_flag(s, "UPDATE users SET must_change_password = $1 WHERE name = $2", name, v);
    });
    if (n == 0) fail(Errc::not_found, "no user " + name);
}

void Database::delete_user(const std::string& name) {
    impl_->write("delete user", [&](Session& s) {
        std::string u = name;
        Transaction tx(s);
        // The user's outstanding tokens go too: they must not enroll a later namesake.
        s << "DELETE FROM enrollment_tokens WHERE username = $1", use(u), now;
        Statement st(s);
        st << "DELETE FROM users WHERE name = $1", use(u);
        if (st.execute() == 0) fail(Errc::not_found, "no user " + name);  // tx rolls back
        tx.commit();
        return 0;
    });
}

// --- roles -----------------------------------------------------------------------------------

std::set<Permission> Database::permissions(const std::string& role) {
    std::vector<Poco::Nullable<std::string>> names;
    impl_->read("role permissions", [&](Session& s) {
        std::string r = role;
        // One statement: no row means no role, a NULL permission means a role without any.
        s << "SELECT p.permission FROM roles r LEFT JOIN role_permissions p ON p.role = r.name WHERE r.name = $1",
            use(r), into(names), now;
        return 0;
    });
    if (names.empty()) fail(Errc::not_found, "no role " + role);
    std::set<Permission> out;
    for (const auto& n : names) {
        if (n.isNull()) continue;
        // A name from a newer version is not understood, so it grants nothing here.
        if (auto p = permission_from_name(n.value())) out.insert(*p);
    }
    return out;
}

std::vector<std::string> Database::roles() {
    return impl_->read("list roles", [&](Session& s) {
        std::vector<std::string> out;
        s << "SELECT name FROM roles ORDER BY name", into(out), now;
        return out;
    });
}

void Database::create_role(const std::string& role, const std::set<Permission>& perms) {
    check_role_name(role);
    impl_->write("create role", [&](Session& s) {
        std::string r = role;
        Transaction tx(s);
        try {
            s << "INSERT INTO roles (name) VALUES ($1)", use(r), now;
        } catch (const Poco::Exception&) {
            tx.rollback();
            if (role_exists(s, role)) fail(Errc::already_exists, "role " + role + " already exists");
            throw;
        }
        insert_permissions(s, role, perms);
        tx.commit();
        return 0;
    });
}

void Database::set_permissions(const std::string& role, const std::set<Permission>& perms) {
    if (!valid_role_name(role)) fail(Errc::not_found, "no role " + role);
    impl_->write("set role permissions", [&](Session& s) {
        std::string r = role;
        Transaction tx(s);
        s << "DELETE FROM role_permissions WHERE role = $1", use(r), now;
        if (!role_exists(s, role)) fail(Errc::not_found, "no role " + role);  // tx rolls back
        insert_permissions(s, role, perms);
        tx.commit();
        return 0;
    });
}

void Database::delete_role(const std::string& role) {
    if (!valid_role_name(role)) fail(Errc::not_found, "no role " + role);
    std::size_t n = impl_->write("delete role", [&](Session& s) {
        std::string r = role;
        Statement st(s);
        // role_permissions rows follow by ON DELETE CASCADE.
        st << "DELETE FROM roles WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE role = $1)", use(r);
        return st.execute();
    });
    if (n > 0) return;
    bool in_use = impl_->read("delete role", [&](Session& s) { return role_exists(s, role); });
    if (in_use) fail(Errc::invalid_argument, "role " + role + " is still assigned to users");
    fail(Errc::not_found, "no role " + role);
}

// --- enrollment tokens -----------------------------------------------------------------------

Database::NewToken Database::create_enrollment_token(const std::string& username, std::int64_t expires_ms,
                                                     std::int64_t now_ms, const SealPrf& seal) {
    check_user_name(username);
    if (expires_ms <= now_ms) fail(Errc::invalid_argument, "enrollment token would be expired at once");
    auto raw = random_bytes(32);
    NewToken t{EnrollmentToken{ossl::hex(random_bytes(16)), username, expires_ms, std::nullopt, now_ms},
               base64url(raw)};
    auto sealed = seal_xor(seal, t.token.id, username, raw);
    OPENSSL_cleanse(raw.data(), raw.size());
    impl_->write("create enrollment token", [&](Session& s) {
        std::string id = t.token.id, u = username;
        BLOB b = to_blob(sealed);
        Int64 exp = expires_ms, created = now_ms;
        s << "INSERT INTO enrollment_tokens (id, username, sealed, expires_ms, created_ms)"
             " VALUES ($1, $2, $3, $4, $5)",
            use(id), use(u), use(b), use(exp), use(created), now;
        return 0;
    });
    return t;
}

std::optional<Secret> Database::enrollment_token_secret(const std::string& id, const std::string& username,
                                                        std::int64_t now_ms, const SealPrf& seal) {
    std::vector<BLOB> sealed;
    impl_->read("enrollment token", [&](Session& s) {
        std::string i = id, u = username;
        Int64 t = now_ms;
        s << "SELECT sealed FROM enrollment_tokens"
             " WHERE id = $1 AND username = $2 AND used_ms IS NULL AND expires_ms > $3 AND voided = 0"
             " AND sealed IS NOT NULL",
            use(i), use(u), use(t), into(sealed), now;
        return 0;
    });
    if (sealed.empty() || sealed.front().size() != 32) return std::nullopt;
    auto raw = seal_xor(seal, id, username, from_blob(sealed.front()));
    std::optional<Secret> out(base64url(raw));
    OPENSSL_cleanse(raw.data(), raw.size());
    return out;
}

bool Database::consume_enrollment_token(const std::string& id, std::int64_t now_ms) {
    return impl_->write("consume enrollment token", [&](Session& s) {
        std::string i = id;
        Int64 t = now_ms;
        Statement st(s);
        // One statement: of any number of racing servers, exactly one changes the row.
        st << "UPDATE enrollment_tokens SET used_ms = $1 WHERE id = $2 AND used_ms IS NULL AND expires_ms > $1",
            use(t), use(i);
        return st.execute() == 1;
    });
}

std::vector<EnrollmentToken> Database::list_enrollment_tokens() {
    return impl_->read("list enrollment tokens", [&](Session& s) {
        std::vector<std::string> ids, users;
        std::vector<Int64> expires, created, voided;
        std::vector<Poco::Nullable<Int64>> used;
        s << "SELECT id, username, expires_ms, used_ms, created_ms, voided FROM enrollment_tokens"
             " ORDER BY created_ms, id",
            into(ids), into(users), into(expires), into(used), into(created), into(voided), now;
        std::vector<EnrollmentToken> out;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            EnrollmentToken t{ids[i], users[i], expires[i], std::nullopt, created[i], voided[i] != 0};
            if (!used[i].isNull()) t.used_ms = used[i].value();
            out.push_back(std::move(t));
        }
        return out;
    });
}

void Database::revoke_enrollment_token(const std::string& id) {
    std::size_t n = impl_->write("revoke enrollment token", [&](Session& s) {
        std::string i = id;
        Statement st(s);
        st << "DELETE FROM enrollment_tokens WHERE id = $1", use(i);
        return st.execute();
    });
    if (n == 0) fail(Errc::not_found, "no enrollment token " + id);
}

// --- files -----------------------------------------------------------------------------------

namespace {

std::vector<FileRecord> select_files(Session& s, const char* where, const std::string& key, std::size_t max) {
    std::vector<std::string> names, uploaders;
    std::vector<Int64> sizes, uploaded, batch_ids;
    std::vector<BLOB> hashes, signatures;
    std::string k = key;
    Int64 limit = static_cast<Int64>(std::min<std::size_t>(max, 1u << 30));
    Statement st(s);
    st << "SELECT name, size, sha256, uploader, uploaded_ms, upload_signature, COALESCE(batch_id, 0) FROM files "
       << where << " ORDER BY name LIMIT $2",
        use(k), use(limit), into(names), into(sizes), into(hashes), into(uploaders), into(uploaded), into(signatures),
        into(batch_ids), now;
    std::vector<FileRecord> out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out.push_back(FileRecord{names[i], static_cast<std::uint64_t>(sizes[i]), from_blob(hashes[i]), uploaders[i],
                                 uploaded[i], from_blob(signatures[i]), batch_ids[i]});
    return out;
}

}  // namespace

void Database::put_file(const FileRecord& f) {
    check_file_name(f.name);
    if (f.size > static_cast<std::uint64_t>(INT64_MAX)) fail(Errc::limit_exceeded, "file too large");
    impl_->write("record file", [&](Session& s) {
        std::string name = f.name, uploader = f.uploader;
        Int64 size = static_cast<Int64>(f.size), uploaded = f.uploaded_ms;
        BLOB hash = to_blob(f.sha256), sig = to_blob(f.upload_signature);
        // Delete then insert: portable "insert or replace", atomic in one transaction.
        Transaction tx(s);
        s << "DELETE FROM files WHERE name = $1", use(name), now;
        s << "INSERT INTO files (name, size, sha256, uploader, uploaded_ms, upload_signature)"
             " VALUES ($1, $2, $3, $4, $5, $6)",
            use(name), use(size), use(hash), use(uploader), use(uploaded), use(sig), now;
        tx.commit();
        return 0;
    });
}

std::int64_t Database::put_batch(const BatchRecord& b, const std::vector<FileRecord>& files) {
    if (files.empty()) fail(Errc::invalid_argument, "empty batch");
    std::vector<std::string> names, uploaders;
    std::vector<Int64> sizes, uploaded;
    std::vector<BLOB> hashes, sigs;
    names.reserve(files.size());
    for (const auto& f : files) {
        check_file_name(f.name);
        if (f.size > static_cast<std::uint64_t>(INT64_MAX)) fail(Errc::limit_exceeded, "file too large");
        names.push_back(f.name);
        uploaders.push_back(f.uploader);
        sizes.push_back(static_cast<Int64>(f.size));
        uploaded.push_back(f.uploaded_ms);
        hashes.push_back(to_blob(f.sha256));
        sigs.push_back(to_blob(f.upload_signature));
    }
    return impl_->write("record batch", [&](Session& s) {
        std::string uploader = b.uploader;
        Int64 ts = b.timestamp_ms, stored = b.stored_ms;
        BLOB nonce = to_blob(b.nonce), record = to_blob(b.record), sig = to_blob(b.signature);
        Transaction tx(s);
        // A write first (see the top of this file), then the next id under the write lock.
        s << "INSERT INTO batches (id, uploader, timestamp_ms, nonce, record, signature, stored_ms)"
             " SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM batches",
            use(uploader), use(ts), use(nonce), use(record), use(sig), use(stored), now;
        Int64 id = 0;
        s << "SELECT MAX(id) FROM batches", into(id), now;
        std::vector<Int64> ids(files.size(), id);
        // One statement each, executed once per row: prepared once, not parsed per file.
        s << "DELETE FROM files WHERE name = $1", use(names), now;
        s << "INSERT INTO files (name, size, sha256, uploader, uploaded_ms, upload_signature, batch_id)"
             " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            use(names), use(sizes), use(hashes), use(uploaders), use(uploaded), use(sigs), use(ids), now;
        tx.commit();
        return static_cast<std::int64_t>(id);
    });
}

std::optional<BatchRecord> Database::find_batch(std::int64_t id) {
    return impl_->read("find batch", [&](Session& s) -> std::optional<BatchRecord> {
        Int64 key = id;
        std::vector<std::string> uploaders;
        std::vector<Int64> ts, stored;
        std::vector<BLOB> nonces, records, sigs;
        s << "SELECT uploader, timestamp_ms, nonce, record, signature, stored_ms FROM batches WHERE id = $1", use(key),
            into(uploaders), into(ts), into(nonces), into(records), into(sigs), into(stored), now;
        if (uploaders.empty()) return std::nullopt;
        return BatchRecord{id, uploaders[0], ts[0], from_blob(nonces[0]), from_blob(records[0]), from_blob(sigs[0]), stored[0]};
    });
}

std::optional<FileRecord> Database::find_file(const std::string& name) {
    auto rows = impl_->read("find file", [&](Session& s) { return select_files(s, "WHERE name = $1", name, 1); });
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

std::vector<FileRecord> Database::list_files(const std::string& after_name, std::size_t max) {
    if (max == 0) return {};
    // Names compare byte-wise (SQLite's BINARY collation; on PostgreSQL the column wants COLLATE "C").
    return impl_->read("list files", [&](Session& s) { return select_files(s, "WHERE name > $1", after_name, max); });
}

bool Database::remove_file(const std::string& name) {
    return impl_->write("remove file", [&](Session& s) {
        std::string n = name;
        Statement st(s);
        st << "DELETE FROM files WHERE name = $1", use(n);
        return st.execute() > 0;
    });
}

// --- abuse resistance ------------------------------------------------------------------------

void Database::record_auth_failure(const std::string& source, const std::string& kind, std::int64_t now_ms) {
    impl_->write("record failure", [&](Session& s) {
        std::string src = source, k = kind.substr(0, 32);
        Int64 t = now_ms;
        s << "INSERT INTO auth_failures (source, at_ms, kind) VALUES ($1, $2, $3)", use(src), use(t), use(k), now;
        return 0;
    });
}

std::size_t Database::auth_failures_since(const std::string& source, std::int64_t since_ms) {
    return impl_->read("count failures", [&](Session& s) {
        std::string src = source;
        Int64 t = since_ms, n = 0;
        s << "SELECT COUNT(*) FROM auth_failures WHERE source = $1 AND at_ms >= $2", use(src), use(t), into(n), now;
        return static_cast<std::size_t>(n);
    });
}

void Database::clear_auth_failures(const std::string& source) {
    impl_->write("clear failures", [&](Session& s) {
        std::string src = source;
        s << "DELETE FROM auth_failures WHERE source = $1", use(src), now;
        return 0;
    });
}

void Database::prune_auth_failures(std::int64_t before_ms) {
    impl_->write("prune failures", [&](Session& s) {
        Int64 t = before_ms;
        s << "DELETE FROM auth_failures WHERE at_ms < $1", use(t), now;
        return 0;
    });
}

namespace {

std::vector<Block> select_blocks(Session& s, const std::string* source) {
    std::vector<std::string> sources, reasons;
    std::vector<Int64> until, offenses, created;
    Statement st(s);
    st << "SELECT source, until_ms, reason, offenses, created_ms FROM blocks";
    std::string src = source ? *source : std::string();
    if (source) st << " WHERE source = $1", use(src);
    st << " ORDER BY source", into(sources), into(until), into(reasons), into(offenses), into(created), now;
    std::vector<Block> out;
    for (std::size_t i = 0; i < sources.size(); ++i)
        out.push_back({sources[i], until[i], reasons[i], static_cast<int>(offenses[i]), created[i]});
    return out;
}

}  // namespace

void Database::put_block(const Block& b) {
    impl_->write("block", [&](Session& s) {
        std::string src = b.source, reason = b.reason.substr(0, 255);
        Int64 until = b.until_ms, created = b.created_ms, offenses = b.offenses;
        Transaction tx(s);
        s << "DELETE FROM blocks WHERE source = $1", use(src), now;
        s << "INSERT INTO blocks (source, until_ms, reason, offenses, created_ms) VALUES ($1, $2, $3, $4, $5)",
            use(src), use(until), use(reason), use(offenses), use(created), now;
        tx.commit();
        return 0;
    });
}

std::optional<Block> Database::find_block(const std::string& source) {
    auto rows = impl_->read("find block", [&](Session& s) { return select_blocks(s, &source); });
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

std::vector<Block> Database::list_blocks() {
    return impl_->read("list blocks", [&](Session& s) { return select_blocks(s, nullptr); });
}

bool Database::lift_block(const std::string& source) {
    return impl_->write("unblock", [&](Session& s) {
        std::string src = source;
        Statement st(s);
        // The row stays (until 0) so that a repeat offence still counts as one.
        st << "UPDATE blocks SET until_ms = 0 WHERE source = $1 AND until_ms > 0", use(src);
        std::size_t n = st.execute();
        s << "DELETE FROM auth_failures WHERE source = $1", use(src), now;
        return n > 0;
    });
}

int Database::record_login_failure(const std::string& user, std::int64_t now_ms) {
    return impl_->write("record login failure", [&](Session& s) {
        std::string u = user;
        Int64 t = now_ms, n = 0;
        s << "UPDATE users SET failed_logins = failed_logins + 1, last_failed_ms = $1 WHERE name = $2", use(t), use(u),
            now;
        s << "SELECT failed_logins FROM users WHERE name = $1", use(u), into(n), now;
        return static_cast<int>(n);
    });
}

void Database::reset_login_failures(const std::string& user) {
    impl_->write("reset login failures", [&](Session& s) {
        std::string u = user;
        s << "UPDATE users SET failed_logins = 0 WHERE name = $1 AND failed_logins <> 0", use(u), now;
        return 0;
    });
}

Usage Database::usage(const std::string& uploader) {
    return impl_->read("usage", [&](Session& s) {
        std::string u = uploader;
        Int64 files = 0;
        Poco::Nullable<Int64> bytes;
        s << "SELECT COUNT(*), SUM(size) FROM files WHERE uploader = $1", use(u), into(files), into(bytes), now;
        return Usage{static_cast<std::uint64_t>(files), bytes.isNull() ? 0 : static_cast<std::uint64_t>(bytes.value())};
    });
}

}  // namespace sfts::db
