#include "sfts/server/context.hpp"

#include <ctime>

#include "sfts/auth/hmac.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/pki/pss.hpp"
#include "sfts/pki/x509.hpp"

namespace sfts::server {

std::string loggable(std::string_view text) {
    // Only bounded here: every log line is escaped as a whole by the log formatter
    // (sfts::EscapingFormatter, sfts::escape_text), the one escaping of the project.
    std::string out(text.substr(0, 128));
    if (text.size() > 128) out += "...";
    return out;
}

void ServerContext::audit_event(std::string_view event, std::vector<audit::Field> fields) {
    for (auto& f : fields)
        if (f.value.size() > 512) f.value = f.value.substr(0, 512) + "...";  // peers control some values
    try {
        audit->append(event, fields);
    } catch (const std::exception& e) {
        log->error(std::string("AUDIT TRAIL NOT WRITTEN (") + std::string(event) + "): " + e.what());
    }
}

void ServerContext::audit_events(std::string_view event, std::vector<std::vector<audit::Field>> records) {
    for (auto& fields : records)
        for (auto& f : fields)
            if (f.value.size() > 512) f.value = f.value.substr(0, 512) + "...";
    try {
        audit->append_many(event, records);
    } catch (const std::exception& e) {
        log->error(std::string("AUDIT TRAIL NOT WRITTEN (") + std::string(event) + ", " + std::to_string(records.size()) +
                   " records): " + e.what());
    }
}

void ServerContext::reload_crl() {
    auto crl = ossl::crl_from_pem(read_file(cfg.pki.crl_path()));
    file_tls->set_crl(crl.get());
}

bool ServerContext::refresh_crl() {
    const std::string path = cfg.pki.crl_path();
    const std::time_t now = std::time(nullptr);
    try {
        bool resigned;
        {
            std::lock_guard lock(authority_mutex);
            resigned = authority->refresh_crl_if_due(now);
        }
        if (resigned) {
            auto st = pki::read_crl_state(path);
            log->notice("CRL " + path + " re-signed in the token: next update " + pki::utc_string(st.next_update));
            if (file_tls) reload_crl();
        }
        return true;
    } catch (const Error& e) {
        auto st = pki::read_crl_state(path);
        std::string when = !st.readable          ? "it cannot be read (" + st.problem + ")"
                           : st.next_update <= now ? "it EXPIRED on " + pki::utc_string(st.next_update) +
                                                         ": every client certificate is refused until it is re-signed"
                                                   : "it expires on " + pki::utc_string(st.next_update) +
                                                         ", after which every client certificate is refused";
        log->warning("CRL " + path + " is due but could not be re-signed: " + e.what() + "; " + when +
                     " (re-sign it with 'sfts-admin crl publish'; sftsd retries every " +
                     std::to_string(cfg.pki.crl_check_s) + " s)");
        return false;
    }
}

void ServerContext::check_certificates() {
    const std::time_t now = std::time(nullptr);
    auto days_left = [&](const X509* c) {
        return (static_cast<long long>(pki::to_time_t(X509_get0_notAfter(c))) - static_cast<long long>(now)) / 86400;
    };
    long long s = days_left(server_cert.get());
    if (s < cfg.pki.warn_days)
        log->warning("the server certificate " + ossl::serial_hex(server_cert.get()) +
                     (s < 0 ? " has EXPIRED: no client can connect" : " expires in " + std::to_string(s) + " days") +
                     ": renew it with 'sfts-admin cert renew-server' and restart sftsd (docs/operations.md)");
    long long c = days_left(ca_cert.get());
    if (c < cfg.pki.warn_days)
        log->warning("the CA certificate " + ossl::serial_hex(ca_cert.get()) +
                     (c < 0 ? " has EXPIRED" : " expires in " + std::to_string(c) + " days") +
                     ": follow the CA rollover plan in docs/operations.md");
    try {
        auto on_disk = ossl::x509_from_pem(read_file(cfg.pki.server_cert_path()));
        if (X509_cmp(on_disk.get(), server_cert.get()) != 0)
            log->warning("server certificate " + ossl::serial_hex(on_disk.get()) + " in " + cfg.pki.server_cert_path() +
                         " is not the one in use (" + ossl::serial_hex(server_cert.get()) +
                         "): restart sftsd to switch to it");
    } catch (const Error& e) {
        log->warning("cannot read " + cfg.pki.server_cert_path() + ": " + e.what());
    }
}

AbuseConfig abuse_config(const Config& cfg) {
    constexpr std::int64_t hour = 3600LL * 1000;
    AbuseConfig a;
    a.failure_threshold = cfg.abuse.failure_threshold;
    a.failure_window_ms = cfg.abuse.failure_window_h * hour;
    a.ban_ms = cfg.abuse.ban_h * hour;
    a.ban_increment_ms = cfg.abuse.ban_increment_h * hour;
    for (const auto& c : cfg.abuse.safe_list) {
        try {
            a.safe_list.push_back(Cidr::parse(c));
        } catch (const Error& e) {
            fail(Errc::invalid_argument, "abuse.safe_list: " + std::string(e.what()));
        }
    }
    a.account_max_failures = cfg.abuse.account_max_failures;
    a.account_delay_base_ms = cfg.abuse.account_delay_ms;
    a.connections_per_s = cfg.abuse.connections_per_s;
    a.connection_burst = cfg.abuse.connection_burst;
    a.commands_per_s = cfg.abuse.commands_per_s;
    a.command_burst = cfg.abuse.command_burst;
    a.max_connections_per_source = cfg.abuse.max_connections_per_source;
    a.max_connections = cfg.service.max_connections;
    return a;
}

TransferSlot::TransferSlot(ServerContext& ctx, const std::string& user) : ctx_(ctx), user_(user) {
    std::lock_guard lock(ctx_.transfers_mutex);
    int& n = ctx_.transfers[user_];
    if (n >= ctx_.cfg.limits.max_transfers_per_user) {
        if (n == 0) ctx_.transfers.erase(user_);
        fail(Errc::limit_exceeded, "too many transfers at once for '" + user_ + "' (limit " +
                                       std::to_string(ctx_.cfg.limits.max_transfers_per_user) + ")");
    }
    ++n;
}

TransferSlot::~TransferSlot() {
    std::lock_guard lock(ctx_.transfers_mutex);
    if (--ctx_.transfers[user_] <= 0) ctx_.transfers.erase(user_);
}

std::unique_ptr<ServerContext> make_context(const Config& cfg, const Secret& pin, std::optional<Secret> site_secret,
                                            Poco::Logger& log) {
    auto ctx = std::make_unique<ServerContext>();
    ctx->cfg = cfg;
    ctx->log = &log;
    ctx->site_secret = std::move(site_secret);

    // Keys first, in this thread, before any worker exists. A token failure names the token:
    // the module's own words (CKR_GENERAL_ERROR when SoftHSM2's store is missing) do not.
    auto from_token = [&](auto&& load) {
        try {
            return load();
        } catch (const Error& e) {
            throw Error(e.kind(), "server token " + cfg.pki.token.to_string() + ": " + e.what());
        }
    };
    ctx->authority = from_token([&] { return std::make_unique<pki::Authority>(cfg.pki, pin); });
    ctx->ca_cert = ossl::x509_from_pem(read_file(cfg.pki.ca_cert_path()));
    ctx->ca_der = ossl::to_der(ctx->ca_cert.get());
    ctx->server_cert = ossl::x509_from_pem(read_file(cfg.pki.server_cert_path()));
    ctx->server_cert_sha256 = pki::fingerprint(ctx->server_cert.get());
    ctx->server_key = from_token([&] {
        return hsm::KeyProvider::for_module(cfg.pki.module_path)
            .private_key(cfg.pki.token.with_object(cfg.pki.server_label), pin);
    });
    if (X509_check_private_key(ctx->server_cert.get(), ctx->server_key.get()) != 1) {
        ossl::drain_errors();
        fail(Errc::integrity, cfg.pki.server_cert_path() + " does not match the server key '" + cfg.pki.server_label +
                                  "' in the token");
    }

    ctx->check_certificates();
    // A CRL past (or near) its nextUpdate would refuse every client: re-signed before it is loaded.
    ctx->refresh_crl();
    auto crl = ossl::crl_from_pem(read_file(cfg.pki.crl_path()));
    net::ServerTlsOptions file_opts{ctx->server_key.get(), ctx->server_cert.get(), ctx->ca_cert.get(), true, crl.get()};
    ctx->file_tls = net::TlsContext::server(file_opts);
    net::ServerTlsOptions enroll_opts{ctx->server_key.get(), ctx->server_cert.get(), ctx->ca_cert.get(), false, nullptr};
    ctx->enroll_tls = net::TlsContext::server(enroll_opts);

    ctx->db = db::Database::open_sqlite(cfg.service.database);
    ctx->store = std::make_unique<storage::FileStore>(cfg.service.storage_dir);
    ctx->replay = std::make_unique<ReplayGuard>(std::chrono::seconds(cfg.limits.replay_window_s));
    ctx->abuse = std::make_unique<AbuseGuard>(*ctx->db, abuse_config(cfg), ctx->clock, log);
    ctx->audit = std::make_unique<audit::AuditLog>(cfg.service.audit_log);
    ctx->audit->sync = cfg.service.audit_sync;
    ctx->abuse->on_event = [c = ctx.get()](const std::string& event, const std::string& source, const std::string& detail) {
        c->audit_event(event, {{"source", source}, {"detail", detail}});
    };
    auth::PasswordPolicyOptions popts;
    popts.min_length = static_cast<std::size_t>(cfg.auth.min_password_length);
    popts.blocklist_file = cfg.auth.password_blocklist;
    ctx->policy = std::make_unique<auth::PasswordPolicy>(popts);
    // Persisted, so an unknown user's fake salt stays the same across restarts too: a salt that
    // changed after a restart would tell an attacker the account does not exist.
    std::string decoy_path = cfg.pki.state_dir + "/decoy.key";
    if (!file_exists(decoy_path)) {
        auto fresh = auth::random_bytes(32);
        write_file_atomic(decoy_path, std::string(fresh.begin(), fresh.end()), 0600);
    }
    std::string decoy = read_file(decoy_path, 64);
    if (decoy.size() != 32) fail(Errc::integrity, decoy_path + " is damaged: expected 32 bytes");
    ctx->decoy_key.assign(decoy.begin(), decoy.end());
    ctx->enroll_seal_key = from_token([&] { return ctx->authority->derive_secret("sfts-enrollment-token-seal"); });
    ctx->expire_unconfirmed_enrollments(true);
    return ctx;
}

db::SealPrf enrollment_seal(pki::Authority& authority) {
    auto key = authority.derive_secret("sfts-enrollment-token-seal");
    return [key](std::span<const std::uint8_t> data) { return auth::hmac_sha256(key, data); };
}

db::SealPrf ServerContext::seal_prf() const {
    auto key = enroll_seal_key;
    return [key](std::span<const std::uint8_t> data) { return auth::hmac_sha256(key, data); };
}

bool ServerContext::certificate_pending(const std::string& serial) {
    std::lock_guard lock(authority_mutex);
    auto c = authority->registry().find(serial);
    return c && c->pending();
}

std::size_t ServerContext::expire_unconfirmed_enrollments(bool all) {
    std::vector<pki::IssuedCert> gone;
    {
        std::lock_guard lock(authority_mutex);
        std::time_t now = std::time(nullptr);
        for (auto& c : authority->registry().expired_pending(all ? 0 : now)) {
            authority->registry().revoke(c.serial_hex, pki::kReasonUnconfirmed, now);
            gone.push_back(std::move(c));
        }
        if (!gone.empty()) authority->publish_crl();
    }
    if (gone.empty()) return 0;
    reload_crl();
    for (const auto& c : gone) {
        log->warning("enrollment of user '" + c.subject + "' was never confirmed: certificate " + c.serial_hex +
                     " revoked");
        audit_event("enroll_expire", {{"user", c.subject}, {"serial", c.serial_hex}, {"result", "revoked"},
                                      {"detail", all ? "pending at start: never confirmed" : "not confirmed in time"}});
    }
    return gone.size();
}

bool ServerContext::check_token() {
    static const std::uint8_t probe[] = "sftsd token probe";
    try {
        pki::pss_sign(server_key.get(), std::span<const std::uint8_t>(probe, sizeof probe - 1));
        return true;
    } catch (const Error& e) {
        if (!token_lost.exchange(true)) {
            std::string why = "server token " + cfg.pki.token.to_string() + " no longer usable: " + e.what();
            if (log) log->fatal(why);
            if (on_token_lost) on_token_lost(why);
        }
        return false;
    }
}

}  // namespace sfts::server
