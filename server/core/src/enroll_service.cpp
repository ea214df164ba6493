// Enrollment (TCP 8444): CSR in, certificate out, both directions authenticated by an HMAC over
// the whole transcript (docs/protocol.md section 8). The client has no CA yet, so the server's
// proof, which covers the TLS certificate the client saw, is what authenticates the server.
#include <Poco/Logger.h>

#include <ctime>
#include <variant>

#include "sfts/auth/hmac.hpp"
#include "expect.hpp"
#include "sfts/error.hpp"
#include "sfts/net/channel.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/protocol/transcript.hpp"
#include "sfts/server/context.hpp"

namespace sfts::server {

namespace {

// A user "has an account" once it exists in the database or holds a valid, confirmed
// certificate: from then on only a one-time token bound to that name may enroll it, so the
// site-wide secret can never be used to take over someone else's identity. A pending
// (unconfirmed) certificate does not count: an interceptor's abandoned attempt must not lock
// the user out. The caller holds ctx.authority_mutex.
bool has_account_locked(ServerContext& ctx, const std::string& user) {
    if (ctx.db->find_user(user)) return true;
    std::time_t now = std::time(nullptr);
    for (const auto& c : ctx.authority->registry().list())
        if (c.kind == "client" && c.subject == user && !c.revoked_at && !c.pending() && c.not_after > now) return true;
    return false;
}

bool has_account(ServerContext& ctx, const std::string& user) {
    std::lock_guard lock(ctx.authority_mutex);
    return has_account_locked(ctx, user);
}

// The caller holds ctx.authority_mutex. Other pending certificates are left to their own
// enrollments, which will fail to confirm or expire.
bool revoke_previous(ServerContext& ctx, const std::string& user, const std::string& keep_serial) {
    std::time_t now = std::time(nullptr);
    bool any = false;
    for (const auto& c : ctx.authority->registry().list()) {
        if (c.kind == "client" && c.subject == user && !c.revoked_at && !c.pending() && c.serial_hex != keep_serial &&
            c.not_after > now) {
            ctx.authority->registry().revoke(c.serial_hex, pki::kReasonSuperseded, now);
            any = true;
        }
    }
    if (any) ctx.authority->publish_crl();
    return any;
}

struct Pending {
    ServerContext& ctx;
    std::string user, serial, peer;
    bool settled;     // confirmed: nothing to undo
    std::string why;  // why it was not, for the log and the audit trail

    // An enrollment that did not complete: its certificate is revoked at once (never confirmed,
    // so its key stays usable for a new attempt) and the attempt can be redone.
    ~Pending() {
        if (settled) return;
        try {
            bool revoked = false;
            {
                std::lock_guard lock(ctx.authority_mutex);
                auto c = ctx.authority->registry().find(serial);
                if (c && c->pending()) {
                    ctx.authority->registry().revoke(serial, pki::kReasonUnconfirmed, std::time(nullptr));
                    ctx.authority->publish_crl();
                    revoked = true;
                }
            }
            if (!revoked) return;
            ctx.reload_crl();
            ctx.log->warning("enrollment of user '" + user + "' from " + peer + " not confirmed (" + why +
                             "): certificate " + serial + " revoked; the enrollment can be redone");
            ctx.audit_event("enroll_expire", {{"user", user}, {"serial", serial}, {"source", peer}, {"result", "revoked"},
                                              {"detail", why}});
        } catch (const std::exception& e) {
            // It stays pending (refused at login) and is revoked at the next start or enrollment.
            ctx.log->error("enrollment of user '" + user + "': could not revoke unconfirmed certificate " + serial + ": " +
                           e.what());
        }
    }
};

// user_seen: the enrolling user's name once it is known to be valid (for the audit of a failure).
void run(ServerContext& ctx, net::Channel& ch, const std::string& peer, const Poco::Net::IPAddress& ip,
         std::string& user_seen) {
    auto& log = *ctx.log;
    auto frame_deadline = [&] { return net::deadline_in(std::chrono::milliseconds(ctx.cfg.limits.frame_timeout_ms)); };
    auto overall = net::deadline_in(std::chrono::milliseconds(ctx.cfg.limits.login_timeout_ms));
    auto deadline = [&] { return std::min(frame_deadline(), overall); };

    auto hello = expect<proto::Hello>(ch.receive(deadline()));
    if (hello.version != proto::protocol_version || hello.service != proto::Service::enroll)
        fail(Errc::protocol, "unsupported protocol version or wrong service");
    ch.send(proto::ServerHello{}, deadline());

    auto start = expect<proto::EnrollStart>(ch.receive(deadline()));
    const std::string& user = start.user;
    if (!pki::valid_username(user)) fail(Errc::invalid_argument, "invalid user name");
    user_seen = user;
    std::string who = "user '" + loggable(user) + "' from " + peer;

    Secret secret;
    bool by_token = start.secret_kind == proto::SecretKind::enrollment_token;
    const std::string& token_id = start.token_id;
    std::string method = by_token ? "one-time token" : "site secret";
    if (by_token) {
        auto s = ctx.db->enrollment_token_secret(token_id, user, ctx.clock(), ctx.seal_prf());
        if (!s) {
            log.warning("enrollment refused: unknown, used, voided or expired token for " + who);
            ctx.abuse->failure(ip, "enrollment");
            fail(Errc::auth_failed, "enrollment refused");
        }
        secret = std::move(*s);
    } else {
        if (!ctx.site_secret) fail(Errc::permission_denied, "this server enrolls with one-time tokens only");
        if (has_account(ctx, user)) {
            log.warning("enrollment refused: site secret used for existing account " + who);
            ctx.abuse->failure(ip, "enrollment takeover");
            fail(Errc::permission_denied, "user '" + user + "' already exists: re-enrollment needs a one-time token");
        }
        secret = ctx.site_secret->clone();
    }

    proto::EnrollChallenge challenge;
    auto nonce = auth::random_bytes(challenge.server_nonce.size());
    std::copy(nonce.begin(), nonce.end(), challenge.server_nonce.begin());
    ch.send(challenge, deadline());

    auto csr_msg = expect<proto::EnrollCsr>(ch.receive(deadline()));
    auto client_transcript = proto::enroll_client_transcript(start, challenge, csr_msg.csr_der);
    auto expected = auth::hmac_sha256(secret.bytes(), client_transcript);
    if (!auth::equal_constant_time(expected, csr_msg.client_proof)) {
        log.warning("enrollment refused: bad proof (wrong secret) for " + who);
        ctx.abuse->failure(ip, "enrollment");
        fail(Errc::auth_failed, "enrollment refused");
    }
    auto csr = pki::validate_csr_der(csr_msg.csr_der.data(), csr_msg.csr_der.size());
    if (csr.username != user) fail(Errc::invalid_argument, "the CSR's common name is not the enrolling user");

    // Phase 1: a certificate, pending. Nothing else changes (no account, the token stays unused,
    // no earlier certificate is revoked) until the client confirms.
    ctx.expire_unconfirmed_enrollments(false);
    const int confirm_s = ctx.cfg.limits.enroll_confirm_timeout_s;
    ossl::X509Ptr cert;
    {
        std::lock_guard lock(ctx.authority_mutex);
        try {
            cert = ctx.authority->issue_client(csr, std::time(nullptr) + confirm_s + 5);
        } catch (const Error& e) {
            if (e.kind() == Errc::permission_denied) log.warning("enrollment refused for " + who + ": " + e.what());
            throw;
        }
    }
    Pending pending{ctx, user, ossl::serial_hex(cert.get()), peer, false, "connection ended before the client confirmed"};
    const std::string& serial = pending.serial;

    proto::EnrollResult result;
    result.ca_cert_der = ctx.ca_der;
    result.cert_der = ossl::to_der(cert.get());
    proto::Sha256 tls_fp{};
    std::copy(ctx.server_cert_sha256.begin(), ctx.server_cert_sha256.end(), tls_fp.begin());
    auto server_transcript =
        proto::enroll_server_transcript(start, challenge, csr_msg, result.ca_cert_der, result.cert_der, tls_fp);
    result.server_proof = auth::hmac_sha256(secret.bytes(), server_transcript);
    ctx.audit_event("enroll_begin", {{"user", user}, {"serial", serial}, {"source", peer}, {"method", method},
                                     {"result", "pending"}});
    log.information("enrollment of " + who + " with the " + method + ": certificate " + serial +
                    " issued, waiting for the client's confirmation");
    ch.send(result, deadline());

    // Phase 2: the client has verified our proof and confirms with its own.
    proto::Message m;
    try {
        m = ch.receive(net::deadline_in(std::chrono::seconds(confirm_s)));
    } catch (const Error& e) {
        pending.why = e.kind() == Errc::timeout ? "no confirmation within " + std::to_string(confirm_s) + " s"
                                                 : "connection ended before the client confirmed";
        throw;
    }
    auto confirm = expect<proto::EnrollConfirm>(std::move(m));
    auto expected_confirm = auth::hmac_sha256(
        secret.bytes(), proto::enroll_confirm_transcript(start, challenge, csr_msg, result.ca_cert_der, result.cert_der,
                                                         tls_fp, result.server_proof));
    if (!auth::equal_constant_time(expected_confirm, confirm.confirm_proof)) {
        pending.why = "bad confirmation proof";
        log.warning("enrollment confirmation refused: bad proof for " + who);
        ctx.abuse->failure(ip, "enrollment");
        fail(Errc::auth_failed, "enrollment confirmation refused");
    }

    bool crl_changed = false;
    {
        std::lock_guard lock(ctx.authority_mutex);
        auto c = ctx.authority->registry().find(serial);
        if (!c || !c->pending()) {
            pending.why = "expired before the confirmation";
            fail(Errc::timeout, "this enrollment expired before it was confirmed: enroll again");
        }
        if (by_token && !ctx.db->consume_enrollment_token(token_id, ctx.clock())) {
            pending.why = "one-time token used or withdrawn meanwhile";
            log.warning("enrollment refused at confirmation: token already used for " + who);
            fail(Errc::auth_failed, "enrollment refused: the one-time token was used meanwhile");
        }
        if (!by_token && has_account_locked(ctx, user)) {
            pending.why = "account created meanwhile";
            fail(Errc::permission_denied, "user '" + user + "' already exists: re-enrollment needs a one-time token");
        }
        if (!ctx.authority->registry().confirm(serial)) fail(Errc::internal, "certificate " + serial + " vanished");
        pending.settled = true;
        crl_changed = revoke_previous(ctx, user, serial);
    }
    if (crl_changed) ctx.reload_crl();
    if (!ctx.db->find_user(user)) {
        db::User u;
        u.name = user;
        u.role = "unregistered";
        u.created_ms = ctx.clock();
        try {
            ctx.db->create_user(u);
        } catch (const Error& e) {
            if (e.kind() != Errc::already_exists) throw;  // a parallel enrollment made it first
        }
    }
    ctx.audit_event("enroll_confirm", {{"user", user}, {"serial", serial}, {"source", peer}, {"method", method},
                                       {"result", "ok"}});
    log.notice("enrolled " + who + " with the " + method + ", certificate " + serial + " (confirmed)");
    ch.send(proto::OkReply{0, "enrollment confirmed"}, deadline());
}

}  // namespace

void serve_enrollment(ServerContext& ctx, Poco::Net::StreamSocket socket) {
    std::string peer = "?";
    std::string user;  // known once the client has named a valid one
    std::unique_ptr<net::Channel> ch;
    try {
        Poco::Net::IPAddress ip = socket.peerAddress().host();
        auto stream = std::make_unique<net::TlsStream>(ctx.enroll_tls, socket);
        peer = stream->peer_address();
        stream->handshake(net::deadline_in(std::chrono::milliseconds(ctx.cfg.limits.handshake_timeout_ms)));
        ch = std::make_unique<net::Channel>(std::move(stream), proto::Side::server, proto::Service::enroll);
        run(ctx, *ch, peer, ip, user);
        ch->tls().close(net::deadline_in(std::chrono::seconds(1)));
 } catch (const Error& e) {
        std::vector<audit::Field> fields = {{"source", peer}, {"result", std::string(errc_name(e.kind()))}, {"detail", e.what()}};
        if (!user.empty()) fields.insert(fields.begin(), {"user", user});
        ctx.audit_event("enroll", std::move(fields));
        ctx.log->warning("enrollment from " + peer + " failed: " + std::string(errc_name(e.kind())) + ": " + e.what());
        if (e.kind() == Errc::crypto || e.kind() == Errc::token) ctx.check_token();  // our side failed: the token?
        if (ch && !ch->session().closed()) {
            try {
                // Internal details stay in the log; the peer learns the kind and a safe message.
                std::string msg = e.kind() == Errc::internal || e.kind() == Errc::io || e.kind() == Errc::token
                                      ? "server error"
                                      : e.what();
                ch->send(proto::ErrorReply::make(0, e.kind(), msg.substr(0, 512)),
                         net::deadline_in(std::chrono::seconds(2)));
                ch->tls().close(net::deadline_in(std::chrono::seconds(1)));
            } catch (...) {
            }
        }
    } catch (const std::exception& e) {
        ctx.log->error("enrollment from " + peer + ": internal error: " + e.what());
    }
}

}  // namespace sfts::server
