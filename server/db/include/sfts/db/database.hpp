// The user database of sftsd: users, roles and their permissions, one-time enrollment tokens
// and file metadata. Through POCO Data with portable SQL, so that a PostgreSQL connector can
// later serve several servers sharing one database; SQLite in the state directory by default.
// Every method is safe to call from many threads at once. Database failures are Error(io).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/auth/verifier.hpp"
#include "sfts/secret.hpp"

namespace sfts::db {

enum class Permission : std::uint8_t { list, upload, download, remove, update, overwrite, admin };

// "ls", "upload", "download", "delete", "update", "overwrite", "admin".
std::string_view permission_name(Permission p);
std::optional<Permission> permission_from_name(std::string_view name);
// Every permission, in enum order.
const std::vector<Permission>& all_permissions();

// Role names: [a-z0-9_-]{1,32}.
bool valid_role_name(std::string_view role);

struct User {
    std::string name;
    std::string role;                                  // e.g. "registered"
    std::optional<auth::ScramVerifier> verifier;       // none until the first login sets a password
    bool disabled = false;
    bool must_change_password = false;
    std::int64_t created_ms = 0;
    std::int64_t password_changed_ms = 0;
    int failed_logins = 0;           // consecutive failed logins, reset by a success or an unlock
    std::int64_t last_failed_ms = 0;
    bool operator==(const User&) const = default;
};

struct EnrollmentToken {
    std::string id;                   // 16 random bytes, lower-case hex
    std::string username;             // the only user it enrolls
    std::int64_t expires_ms = 0;
    std::optional<std::int64_t> used_ms;
    std::int64_t created_ms = 0;
    // A token from before secrets were sealed (schema 4): its secret was stored in clear, so the
    // upgrade voided it; it can never enroll.
    bool voided = false;
    bool operator==(const EnrollmentToken&) const = default;
};

// The pseudo-random function that seals one-time enrollment secrets: HMAC-SHA256 under a key the
// database never holds (sftsd derives it in the server's token, server::enrollment_seal). A reader
// of the database without that key learns nothing that lets them enroll.
using SealPrf = std::function<std::array<std::uint8_t, 32>(std::span<const std::uint8_t>)>;

struct FileRecord {
    std::string name;
    std::uint64_t size = 0;
    std::vector<std::uint8_t> sha256;
    std::string uploader;
    std::int64_t uploaded_ms = 0;
    std::vector<std::uint8_t> upload_signature;  // of the upload record, or of the batch record
    std::int64_t batch_id = 0;                   // 0: uploaded alone; else the batches row that signs it
    bool operator==(const FileRecord&) const = default;
};

// A batch upload (docs/protocol.md 4.4.1): the exact manifest the client signed ("sfts-batch-v1"
// record) and its signature, so that every file of the batch can be verified on its own later:
// verify the signature over record with the uploader's certificate, then find the file's name,
// size and SHA-256 in record.
struct BatchRecord {
    std::int64_t id = 0;  // assigned by put_batch
    std::string uploader;
    std::int64_t timestamp_ms = 0;  // the client's, from batch_begin
    std::vector<std::uint8_t> nonce;
    std::vector<std::uint8_t> record;
    std::vector<std::uint8_t> signature;
    std::int64_t stored_ms = 0;
    bool operator==(const BatchRecord&) const = default;
};

// A refused source: an IPv4 address or an IPv6 /64 prefix ("2001:db8:1:2::/64").
struct Block {
    std::string source;
    std::int64_t until_ms = 0;  // blocked while now < until_ms; 0 once lifted
    std::string reason;
    int offenses = 0;           // how many times this source has been blocked
    std::int64_t created_ms = 0;
    bool operator==(const Block&) const = default;
};

struct Usage {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

class Database {
public:
    // connector: a registered POCO Data connector name ("SQLite", later "PostgreSQL").
    // Creates or migrates the schema and seeds the default roles on first open.
    Database(const std::string& connector, const std::string& connection_string);
    // SQLite file at path: WAL journal, 5 s busy timeout, foreign keys on.
    static std::unique_ptr<Database> open_sqlite(const std::string& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // users
    std::optional<User> find_user(const std::string& name);
    void create_user(const User& u);  // Error(already_exists); Error(not_found) for an unknown role
    // Sets the password verifier and password_changed_ms, clears must_change_password. Error(not_found).
    void set_verifier(const std::string& name, const auth::ScramVerifier& v, std::int64_t now_ms);
    void set_role(const std::string& name, const std::string& role);  // Error(not_found): user or role
    void set_disabled(const std::string& name, bool disabled);        // Error(not_found)
    void set_must_change_password(const std::string& name, bool v);   // Error(not_found)
    void delete_user(const std::string& name);                        // Error(not_found)
    std::vector<User> list_users();                                   // name order

    // roles: seeded on first open with admin (everything), user (ls, upload, download, update),
    // registered (ls, update), unregistered (update).
    std::set<Permission> permissions(const std::string& role);  // Error(not_found)
    std::vector<std::string> roles();                           // name order
    void create_role(const std::string& role, const std::set<Permission>& perms);  // Error(already_exists/invalid_argument)
    void set_permissions(const std::string& role, const std::set<Permission>& perms);  // Error(not_found)
    void delete_role(const std::string& role);  // Error(not_found); Error(invalid_argument) if users still have it

    // One-time enrollment tokens. The secret (32 random bytes, base64url without padding) is
    // returned once, at creation. The server needs it as the key of the enrollment HMAC, so it
    // is kept, but only sealed: XORed with prf(lp("sfts-enrollment-seal-v1") || lp(id) ||
    // lp(username)), a pad that only the holder of the PRF's key can compute. It is never logged.
    struct NewToken {
        EnrollmentToken token;
        Secret secret;
    };
    // The user need not exist yet (an admin may issue the token first); deleting a user deletes
    // their tokens. Error(invalid_argument) for a bad user name or expires_ms <= now_ms.
    NewToken create_enrollment_token(const std::string& username, std::int64_t expires_ms, std::int64_t now_ms,
                                     const SealPrf& seal);
    // The secret, only if the token is unused, unexpired at now_ms, not voided and bound to
    // username. With another PRF key than at creation the result is a wrong secret.
    std::optional<Secret> enrollment_token_secret(const std::string& id, const std::string& username,
                                                  std::int64_t now_ms, const SealPrf& seal);
    // Atomic: true for exactly one caller, and only while the token is unused and unexpired.
    bool consume_enrollment_token(const std::string& id, std::int64_t now_ms);
    std::vector<EnrollmentToken> list_enrollment_tokens();  // creation order
    void revoke_enrollment_token(const std::string& id);    // Error(not_found)

    // file metadata (the bytes live in the storage directory)
    void put_file(const FileRecord& f);  // insert or replace
    // One transaction: the batch row, then every file (insert or replace) with batch_id set to
    // the new row's id, which is returned. All or nothing.
    std::int64_t put_batch(const BatchRecord& b, const std::vector<FileRecord>& files);
    std::optional<BatchRecord> find_batch(std::int64_t id);
    std::optional<FileRecord> find_file(const std::string& name);
    // Name order (byte-wise), strictly after after_name ("" = from the start), at most max entries.
    std::vector<FileRecord> list_files(const std::string& after_name, std::size_t max);
    bool remove_file(const std::string& name);  // false if absent

    // abuse resistance: authentication failures per source, blocks, failed logins per account
    void record_auth_failure(const std::string& source, const std::string& kind, std::int64_t now_ms);
    std::size_t auth_failures_since(const std::string& source, std::int64_t since_ms);
    void clear_auth_failures(const std::string& source);
    void prune_auth_failures(std::int64_t before_ms);
    void put_block(const Block& b);                              // insert or replace
    std::optional<Block> find_block(const std::string& source);  // expired or lifted ones too
    std::vector<Block> list_blocks();
    bool lift_block(const std::string& source);                  // false if it was not in force
    int record_login_failure(const std::string& user, std::int64_t now_ms);  // the new count; 0: no such user
    void reset_login_failures(const std::string& user);

    // quotas: what a user's uploads occupy
    Usage usage(const std::string& uploader);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sfts::db
