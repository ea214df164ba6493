// Everything a connection handler needs, built once before the first connection is accepted:
// token keys are loaded here, before worker threads exist (libp11's first login and key
// enumeration are not thread-safe).
#pragma once

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sfts/audit/audit_log.hpp"
#include "sfts/auth/password_policy.hpp"
#include "sfts/db/database.hpp"
#include "sfts/net/tls.hpp"
#include "sfts/ossl.hpp"
#include "sfts/pki/authority.hpp"
#include "sfts/secret.hpp"
#include "sfts/server/abuse.hpp"
#include "sfts/server/config.hpp"
#include "sfts/server/replay.hpp"
#include "sfts/storage/file_store.hpp"

namespace sfts::server {

struct ServerContext {
    Config cfg;
    std::unique_ptr<db::Database> db;
    std::unique_ptr<storage::FileStore> store;

    // The CA: issuing and revoking is serialised (the registry's session is not shared).
    std::unique_ptr<pki::Authority> authority;
    std::mutex authority_mutex;

    ossl::X509Ptr ca_cert;
    std::vector<std::uint8_t> ca_der;
    ossl::EvpPkeyPtr server_key;  // in the token
    ossl::X509Ptr server_cert;
    std::vector<std::uint8_t> server_cert_sha256;

    std::shared_ptr<net::TlsContext> file_tls;    // 8443: client certificate required
    std::shared_ptr<net::TlsContext> enroll_tls;  // 8444: server authentication only

    std::unique_ptr<ReplayGuard> replay;
    std::unique_ptr<AbuseGuard> abuse;

    // Transfers running per user (limits.max_transfers_per_user).
    std::mutex transfers_mutex;
    std::map<std::string, int> transfers;
    std::unique_ptr<auth::PasswordPolicy> policy;
    std::optional<Secret> site_secret;       // none: enrollment by one-time token only
    // Seals one-time enrollment secrets in the database (db::SealPrf): derived from the CA key in
    // the token, so the database alone does not let anyone enroll.
    std::vector<std::uint8_t> enroll_seal_key;
    db::SealPrf seal_prf() const;
    std::vector<std::uint8_t> decoy_key;     // makes unknown users look like wrong passwords
    WallClock clock = system_now_ms;
    Poco::Logger* log = nullptr;

    std::unique_ptr<audit::AuditLog> audit;

    // Re-reads crl.pem and hands it to the file service's TLS context.
    void reload_crl();

    // Re-signs crl.pem in the token when it is due (pki::Authority::refresh_crl_if_due) and
    // loads it. When it cannot, logs a warning with the reason and the CRL's nextUpdate (an
    // expired CRL refuses every client) and returns false.
    bool refresh_crl();

    // Logs a warning when the loaded server certificate or the CA certificate expires within
    // pki.warn_days (with what to do: sfts-admin cert renew-server, the CA rollover plan), and
    // when server.crt on disk is no longer the one in use (renewed: restart to switch).
    void check_certificates();

    // Appends to the audit trail; a failure to write it is logged as an error, never hidden.
    void audit_event(std::string_view event, std::vector<audit::Field> fields);
    // One record per element, written and synced together (a batch upload's files).
    void audit_events(std::string_view event, std::vector<std::vector<audit::Field>> records);

    // After a failure on our side of a handshake or signature (crypto, token): signs a probe
    // with the server key. If that fails too, the token is gone; SoftHSM2, for one, invalidates
    // its object handles when its store disappears and they stay invalid when it comes back,
    // so no session can succeed any more: logs it (fatal) and calls on_token_lost once, which
    // the daemon sets to stop with a failure status (systemd restarts it: Restart=on-failure).
    bool check_token();

    // True while serial is a certificate of an enrollment not yet confirmed: no login with it.
    bool certificate_pending(const std::string& serial);
    // Revokes the certificates of enrollments that were never confirmed and whose time is up
    // (every pending one when all: at start, no connection can confirm them any more), audits
    // each, publishes the CRL and loads it. Returns how many.
    std::size_t expire_unconfirmed_enrollments(bool all);
    std::function<void(const std::string&)> on_token_lost;
    std::atomic<bool> token_lost{false};
};

// Opens the token, loads the keys, the database and the storage directory.
std::unique_ptr<ServerContext> make_context(const Config& cfg, const Secret& pin, std::optional<Secret> site_secret,
                                            Poco::Logger& log);

// Counts one transfer of a user for its lifetime; limit_exceeded over the per-user limit.
class TransferSlot {
public:
    TransferSlot(ServerContext& ctx, const std::string& user);
    ~TransferSlot();
    TransferSlot(const TransferSlot&) = delete;
    TransferSlot& operator=(const TransferSlot&) = delete;

private:
    ServerContext& ctx_;
    std::string user_;
};

AbuseConfig abuse_config(const Config& cfg);

// One connection each; they return when it is closed and never throw.
void serve_enrollment(ServerContext& ctx, Poco::Net::StreamSocket socket);
void serve_file_session(ServerContext& ctx, Poco::Net::StreamSocket socket);

// The sealing PRF of one-time enrollment secrets, keyed by the CA key (pki::Authority::derive_secret).
db::SealPrf enrollment_seal(pki::Authority& authority);

// Peer-supplied text bounded for a log line (at most 128 bytes). Escaping is the log
// formatter's (sfts::EscapingFormatter): sftsd's every line goes through sfts::escape_text.
std::string loggable(std::string_view peer_text);

}  // namespace sfts::server
