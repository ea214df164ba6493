// The file service (TCP 8443): mutual TLS, SCRAM login bound to the TLS session, then commands
// under the command table's authorization, each fresh (timestamp + nonce) or refused.
#include <Poco/Logger.h>
#include <openssl/evp.h>

#include <optional>
#include <thread>
#include <unordered_set>
#include <variant>

#include "sfts/auth/scram.hpp"
#include "expect.hpp"
#include "renew.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/net/channel.hpp"
#include "sfts/pki/pss.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/protocol/records.hpp"
#include "sfts/server/commands.hpp"
#include "sfts/server/context.hpp"
#include "sfts/text.hpp"

namespace sfts::server {

namespace {

// A name that shows nothing (only spaces or invisible characters) prints as a blank in every
// listing: legal on the wire, but never accepted for a new file (sfts/text.hpp is_blank).
constexpr const char* kBlankName = "a file name cannot be blank (only spaces or invisible characters)";

using std::chrono::milliseconds;

// An error the peer is told about; the session goes on unless the protocol says otherwise.
struct CommandFailed : Error {
    using Error::Error;
};

const proto::CommandHeader* header_of(const proto::Message& m) {
    return std::visit(
        [](const auto& msg) -> const proto::CommandHeader* {
            if constexpr (requires { msg.header; }) return &msg.header;
            return nullptr;
        },
        m);
}

std::string hex_short(const proto::Sha256& h) { return ossl::hex(h.data(), 8); }

class FileSession {
public:
    FileSession(ServerContext& ctx, net::Channel& ch, std::string peer, Poco::Net::IPAddress ip)
        : ctx_(ctx), ch_(ch), peer_(std::move(peer)), ip_(std::move(ip)) {}

    void run() {
        identify();
        login();
        commands();
    }

private:
    net::Deadline frame_deadline() const { return net::deadline_in(milliseconds(ctx_.cfg.limits.frame_timeout_ms)); }

    // The login name is the certificate's identity; TLS has already verified the chain and CRL.
    void identify() {
        auto cert = ch_.tls().peer_certificate();
        if (!cert) fail(Errc::auth_failed, "no client certificate");
        user_ = ossl::common_name(X509_get_subject_name(cert.get()));
        if (!pki::valid_username(user_)) fail(Errc::auth_failed, "client certificate names no valid user");
        serial_ = ossl::serial_hex(cert.get());
        client_key_.reset(X509_get_pubkey(cert.get()));
        if (!client_key_) ossl::fail_ossl(Errc::auth_failed, "client certificate key");
        who_ = "user '" + user_ + "' (certificate " + serial_ + ") from " + peer_;
        // Issued by an enrollment the client has not confirmed (docs/protocol.md 4.2): not usable
        // until it is; an unconfirmed one is revoked and then refused by the CRL.
        if (ctx_.certificate_pending(serial_)) {
            ctx_.log->warning("login refused: certificate of an unconfirmed enrollment, " + who_);
            ctx_.audit_event("login", {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"result", "auth_failed"},
                                       {"detail", "certificate of an unconfirmed enrollment"}});
            fail(Errc::auth_failed, "certificate " + serial_ + " belongs to an enrollment that was not confirmed");
        }
    }

    void login() {
        auto overall = net::deadline_in(milliseconds(ctx_.cfg.limits.login_timeout_ms));
        auto deadline = [&] { return std::min(frame_deadline(), overall); };
        auto hello = expect<proto::Hello>(ch_.receive(deadline()));
        if (hello.version != proto::protocol_version || hello.service != proto::Service::file)
            fail(Errc::protocol, "unsupported protocol version or wrong service");
        auto row = ctx_.db->find_user(user_);
        bool initial = !row || (!row->verifier && !row->disabled);
        ch_.send(proto::ServerHello{proto::protocol_version, initial}, deadline());

        for (;;) {
            auto m = ch_.receive(deadline());
            if (auto* p = std::get_if<proto::SetInitialPassword>(&m)) {
                if (!initial) fail(Errc::permission_denied, "this account already has a password");
                set_initial_password(p->password);
                p->password.wipe();
                initial = false;
                ch_.send(proto::OkReply{0, "password set; log in now"}, deadline());
                continue;
            }
            if (std::holds_alternative<proto::ExitRequest>(m)) {
                ch_.send(proto::OkReply{0, "bye"}, deadline());
                fail(Errc::ok, "exit before login");
            }
            scram(expect<proto::ScramClientFirst>(std::move(m)), deadline);
            return;
        }
    }

    void set_initial_password(const Secret& password) {
        try {
            ctx_.policy->check(password, user_);
        } catch (const Error& e) {
            ctx_.log->information("initial password refused for " + who_ + ": " + e.what());
            throw;
        }
        auto v = auth::make_verifier(password, static_cast<std::uint32_t>(ctx_.cfg.auth.scram_iterations));
        auto row = ctx_.db->find_user(user_);
        if (!row) {
            db::User u;
            u.name = user_;
            u.role = "registered";
            u.created_ms = ctx_.clock();
            ctx_.db->create_user(u);
        } else if (row->role == "unregistered") {
            ctx_.db->set_role(user_, "registered");
        }
        ctx_.db->set_verifier(user_, v, ctx_.clock());
        ctx_.log->notice("account set up: " + who_);
        ctx_.audit_event("password_set", {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"result", "ok"}});
    }

    template <typename DeadlineFn>
    void scram(const proto::ScramClientFirst& first, DeadlineFn deadline) {
        auto lookup = [this](const std::string& name) -> std::optional<auth::ScramVerifier> {
            // Only the certificate's own user may log in on this connection; anyone else, an
            // unknown or a disabled user all fail exactly like a wrong password.
            if (name != user_) return std::nullopt;
            auto row = ctx_.db->find_user(name);
            if (!row || row->disabled || !row->verifier) return std::nullopt;
            return row->verifier;
        };
        auto row = ctx_.db->find_user(user_);
        if (row && ctx_.abuse->account_locked(*row)) {
            ctx_.abuse->failure(ip_, "locked account");
            ctx_.log->warning("login refused, account locked: " + who_);
            ctx_.audit_event("login", {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"result", "locked"}});
            fail(Errc::permission_denied,
                 "account locked after too many failed logins: ask an administrator (sfts-admin user unlock)");
        }
        // Growing delays after failed logins (NIST SP 800-63B 5.2.2): slow guessing, not users.
        if (row && row->failed_logins > 0) std::this_thread::sleep_for(ctx_.abuse->login_delay(row->failed_logins));
        // The login is bound to this TLS session (tls-exporter) unless the administrator has
        // explicitly allowed plain SCRAM: without the binding, a relay that terminates TLS
        // could pass the exchange through.
        const std::string mechanism = first.mechanism == auth::kMechanismPlus ? auth::kMechanismPlus
                                      : first.mechanism == auth::kMechanism   ? auth::kMechanism
                                                                              : "unknown";
        if (mechanism != auth::kMechanismPlus && !ctx_.cfg.auth.allow_unbound_scram) {
            ctx_.log->warning("login refused: " + who_ + " used " + mechanism +
                              " without channel binding (auth.allow_unbound_scram is false)");
            ctx_.audit_event("login", {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"result", "unbound_refused"},
                                       {"mechanism", mechanism}});
            fail(Errc::permission_denied, std::string("login without channel binding refused: this server requires ") +
                                              auth::kMechanismPlus + " (bound to the TLS session by tls-exporter)");
        }
        auto cb = ch_.tls().channel_binding();
        auth::ScramServer server(lookup, cb, ctx_.decoy_key, static_cast<std::uint32_t>(ctx_.cfg.auth.scram_iterations));
        try {
            auto server_first = server.client_first(first.mechanism, first.sasl);
            ch_.send(proto::ScramServerFirst{server_first}, deadline());
            auto final_msg = expect<proto::ScramClientFinal>(ch_.receive(deadline()));
            auto server_final = server.client_final(final_msg.sasl);
            if (server.username() != user_) fail(Errc::auth_failed, "authentication failed");
            ch_.send(proto::ScramServerFinal{server_final}, deadline());
        } catch (const Error& e) {
            if (e.kind() == Errc::auth_failed) {
                ctx_.audit_event("login", {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"result", "auth_failed"},
                                           {"as", server.username()}, {"mechanism", mechanism}});
                ctx_.log->warning("login failed: " + who_ + " (as '" + loggable(server.username()) + "')");
                if (row) ctx_.abuse->login_failed(user_);
                ctx_.abuse->failure(ip_, "login");
            }
            throw;
        }
        if (row) ctx_.abuse->login_succeeded(*row);
        ctx_.audit_event("login", {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"result", "ok"},
                                   {"mechanism", mechanism}, {"channel_binding", server.channel_bound() ? "tls-exporter" : "none"}});
        verifier_ = server.verifier();
        refresh_caller();
        ctx_.log->notice("login " + who_ + " role " + role_ + ", " + ch_.tls().version() + " " + ch_.tls().cipher() +
                         (server.channel_bound() ? ", channel-bound" : ""));
    }

    void refresh_caller() {
        auto row = ctx_.db->find_user(user_);
        if (!row || row->disabled) fail(Errc::auth_failed, "account disabled");
        role_ = row->role;
        caller_.permissions = ctx_.db->permissions(role_);
        caller_.must_change_password = row->must_change_password;
        if (row->verifier) verifier_ = *row->verifier;
    }

    void commands() {
        for (;;) {
            ch_.release_buffers();  // an idle session holds no chunk buffer
            auto idle = net::deadline_in(milliseconds(ctx_.cfg.limits.idle_timeout_ms));
            proto::Message m = ch_.receive(idle, milliseconds(ctx_.cfg.limits.frame_timeout_ms));
            auto type = proto::type_of(m);
            const proto::CommandHeader* h = header_of(m);
            SFTS_INVARIANT(h != nullptr);  // the state machine lets only commands through here
            std::uint64_t id = h->request_id;
            if (type == proto::MsgType::transfer_abort) {  // an abort that crossed the end of a download
                ch_.send(proto::OkReply{id, "nothing to abort"}, frame_deadline());
                continue;
            }
            const CommandSpec* spec = find_command(type);
            SFTS_INVARIANT(spec != nullptr);
            audit_.clear();
            try {
                if (!ctx_.abuse->admit_command(ip_)) fail(Errc::limit_exceeded, "command rate limit exceeded; slow down");
                check_fresh(*h);
                if (!allowed(caller_, *spec)) {
                    fail(Errc::permission_denied, caller_.must_change_password
                                                      ? "your password must be changed first (update)"
                                                      : "role '" + role_ + "' may not " + std::string(spec->name));
                }
                bool more = dispatch(m, id);
                audit_command(*spec, "ok");
                if (!more) return;  // exit
            } catch (const Error& e) {
                audit_command(*spec, std::string(errc_name(e.kind())) + ": " + e.what());
                if (e.kind() == Errc::crypto || e.kind() == Errc::token) ctx_.check_token();
                if (e.kind() == Errc::internal || ch_.session().closed()) throw;
                reply_error(*spec, id, e);
                if (ch_.session().closed()) return;  // the error ended the session (mid-upload)
            }
        }
    }

    void audit_command(const CommandSpec& spec, const std::string& result) {
        std::vector<audit::Field> f = {{"user", user_}, {"serial", serial_}, {"source", peer_}, {"command", std::string(spec.name)}};
        for (auto& x : audit_) f.push_back(std::move(x));
        f.push_back({"result", result});
        ctx_.audit_event("command", std::move(f));
    }

    void reply_error(const CommandSpec& spec, std::uint64_t id, const Error& e) {
        ctx_.log->information(std::string(spec.name) + " by " + who_ + ": " + std::string(errc_name(e.kind())) + ": " +
                              e.what());
        bool server_side = e.kind() == Errc::io || e.kind() == Errc::token || e.kind() == Errc::crypto;
        ch_.send(proto::ErrorReply::make(id, e.kind(), server_side ? "server error" : std::string(e.what()).substr(0, 512)),
                 frame_deadline());
    }

    void check_fresh(const proto::CommandHeader& h) {
        switch (ctx_.replay->check(user_, h.timestamp_ms, h.nonce)) {
            case ReplayGuard::Verdict::fresh: return;
            case ReplayGuard::Verdict::stale:
                ctx_.log->warning("stale command refused: " + who_);
                fail(Errc::auth_failed, "command timestamp outside the accepted window (check the clock)");
            case ReplayGuard::Verdict::replayed:
                ctx_.log->warning("replayed command refused: " + who_);
                fail(Errc::auth_failed, "replayed command (nonce already used)");
        }
    }

    // Returns false when the session ends.
    bool dispatch(proto::Message& m, std::uint64_t id) {
        if (auto* p = std::get_if<proto::ListRequest>(&m)) return on_list(*p), true;
        if (auto* p = std::get_if<proto::UploadBegin>(&m)) return on_upload(*p), true;
        if (auto* p = std::get_if<proto::BatchBegin>(&m)) return on_batch(*p), true;
        if (auto* p = std::get_if<proto::DownloadRequest>(&m)) return on_download(*p), true;
        if (auto* p = std::get_if<proto::DeleteRequest>(&m)) return on_delete(*p), true;
        if (auto* p = std::get_if<proto::UpdatePassword>(&m)) return on_update(*p), true;
        if (auto* p = std::get_if<proto::RenewRequest>(&m)) {
            ch_.send(renew_certificate(ctx_, {user_, serial_, client_key_.get(), who_}, *p, audit_), frame_deadline());
            return true;
        }
        if (std::holds_alternative<proto::HelpRequest>(m)) {
            ch_.send(proto::HelpReply{id, allowed_commands(caller_)}, frame_deadline());
            return true;
        }
        if (std::holds_alternative<proto::ExitRequest>(m)) {
            ch_.send(proto::OkReply{id, "bye"}, frame_deadline());
            ctx_.log->information("exit " + who_);
            return false;
        }
        SFTS_INVARIANT(false);
        return false;
    }

    static void check_name(const std::string& name) {
        if (!storage::valid_filename(name)) fail(Errc::invalid_argument, "invalid file name");
    }

    void on_list(const proto::ListRequest& r) {
        if (!r.cursor.empty()) check_name(r.cursor);
        auto rows = ctx_.db->list_files(r.cursor, proto::max_list_entries + 1);
        proto::ListPage page;
        page.request_id = r.header.request_id;
        for (auto& f : rows) {
            if (page.entries.size() == proto::max_list_entries) {
                page.next_cursor = page.entries.back().name;
                break;
            }
            proto::ListEntry e;
            e.name = f.name;
            e.size = f.size;
            e.mtime_ms = f.uploaded_ms;
            std::copy_n(f.sha256.begin(), std::min<std::size_t>(32, f.sha256.size()), e.sha256.begin());
            e.uploader = f.uploader;
            page.entries.push_back(std::move(e));
        }
        ch_.send(page, frame_deadline());
        ctx_.log->information("ls by " + who_ + ": " + std::to_string(page.entries.size()) + " entries");
    }

    void check_quota(const proto::UploadBegin& b, bool exists) {
        if (ctx_.cfg.limits.quota_bytes == 0 && ctx_.cfg.limits.quota_files == 0) return;
        auto use = ctx_.db->usage(user_);
        std::uint64_t replaced = 0, replaced_files = 0;
        if (exists)
            if (auto old = ctx_.db->find_file(b.filename); old && old->uploader == user_) {
                replaced = old->size;
                replaced_files = 1;
            }
        auto qb = static_cast<std::uint64_t>(ctx_.cfg.limits.quota_bytes);
        auto qf = static_cast<std::uint64_t>(ctx_.cfg.limits.quota_files);
        if (qb && use.bytes - replaced + b.size > qb)
            fail(Errc::limit_exceeded, "quota exceeded: " + std::to_string(use.bytes) + " of " + std::to_string(qb) +
                                           " bytes used; this file needs " + std::to_string(b.size));
        if (qf && use.files - replaced_files + 1 > qf)
            fail(Errc::limit_exceeded, "quota exceeded: " + std::to_string(use.files) + " of " + std::to_string(qf) + " files");
    }

    void on_upload(const proto::UploadBegin& b) {
        audit_ = {{"filename", b.filename}, {"size", std::to_string(b.size)}};
        check_name(b.filename);
        if (is_blank(b.filename)) fail(Errc::invalid_argument, kBlankName);
        TransferSlot slot(ctx_, user_);
        if (b.size > static_cast<std::uint64_t>(ctx_.cfg.limits.max_file_bytes))
            fail(Errc::limit_exceeded, "file larger than the server's limit");
        bool exists = ctx_.store->exists(b.filename);
        if (exists && !b.overwrite) fail(Errc::already_exists, "'" + b.filename + "' exists (overwrite not requested)");
        if (exists && !caller_.permissions.count(db::Permission::overwrite) && !caller_.permissions.count(db::Permission::admin))
            fail(Errc::permission_denied, "role '" + role_ + "' may not overwrite files");
        check_quota(b, exists);
        if (b.size > ctx_.store->free_bytes()) fail(Errc::limit_exceeded, "not enough space on the server");

        auto upload = ctx_.store->begin_upload(b.size);  // reserves the space: a full disk fails here
        ch_.send(proto::OkReply{b.header.request_id, "send the data"}, frame_deadline());

        ossl::EvpMdCtxPtr md(EVP_MD_CTX_new());
        ossl::check(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
        net::BulkReads bulk(ch_.tls());
        proto::UploadEnd end;
        for (;;) {
            proto::Message m = ch_.receive(frame_deadline());
            if (auto* c = std::get_if<proto::UploadChunk>(&m)) {
                if (upload.bytes_written() + c->data.size() > b.size)
                    fail(Errc::limit_exceeded, "more data than announced");
                upload.write(c->data);
                ossl::check(EVP_DigestUpdate(md.get(), c->data.data(), c->data.size()), "EVP_DigestUpdate");
                ch_.recycle(std::move(c->data));  // the next chunk is read into this memory
                continue;
            }
            if (std::holds_alternative<proto::TransferAbort>(m)) {
                ch_.send(proto::OkReply{b.header.request_id, "upload aborted; nothing stored"}, frame_deadline());
                ctx_.log->information("upload '" + loggable(b.filename) + "' by " + who_ + ": aborted by the client");
                return;  // the Upload's destructor removes the temporary file
            }
            end = expect<proto::UploadEnd>(std::move(m));
            break;
        }
        proto::Sha256 digest{};
        unsigned int n = 0;
        ossl::check(EVP_DigestFinal_ex(md.get(), digest.data(), &n), "EVP_DigestFinal_ex");
        if (upload.bytes_written() != b.size) fail(Errc::integrity, "received fewer bytes than announced; nothing stored");
        audit_.push_back({"sha256", ossl::hex(digest.data(), digest.size())});
        if (digest != end.sha256) fail(Errc::integrity, "SHA-256 mismatch; nothing stored");
        auto record = proto::upload_record(user_, b, digest);
        if (!pki::pss_verify(client_key_.get(), record, end.signature))
            fail(Errc::integrity, "upload signature does not verify against your certificate; nothing stored");

        upload.commit(b.filename, b.overwrite);
        db::FileRecord f{b.filename, b.size, {digest.begin(), digest.end()}, user_, ctx_.clock(), end.signature, 0};
        try {
            ctx_.db->put_file(f);
        } catch (const Error&) {
            ctx_.store->remove(b.filename);  // no file without its metadata (hash, signature)
            throw;
        }
        proto::UploadReceipt receipt;
        receipt.request_id = b.header.request_id;
        receipt.user = user_;
        receipt.filename = b.filename;
        receipt.size = b.size;
        receipt.sha256 = digest;
        receipt.timestamp_ms = b.header.timestamp_ms;
        receipt.nonce = b.header.nonce;
        receipt.stored_at_ms = f.uploaded_ms;
        receipt.server_signature = pki::pss_sign(ctx_.server_key.get(), proto::receipt_record(receipt, end.signature));
        ch_.send(receipt, frame_deadline());
        ctx_.log->information("upload '" + loggable(b.filename) + "' by " + who_ + ": " + std::to_string(b.size) +
                              " bytes, sha256 " + hex_short(digest) + "…, stored");
    }

    bool may_overwrite() const {
        return caller_.permissions.count(db::Permission::overwrite) || caller_.permissions.count(db::Permission::admin);
    }

    // A batch (docs/protocol.md 4.4.1). While the files stream in, nothing is answered: a file
    // the server will refuse (bad or duplicate name, too large, exists, over quota) is noted,
    // the rest of the stream drained, and the refusal, naming the first such file, answers
    // batch_end, so the session goes on. Only what breaks the stream itself (more files than
    // announced, a storage failure) ends the session, as mid-upload.
    void on_batch(const proto::BatchBegin& b) {
        audit_ = {{"files", std::to_string(b.count)}, {"overwrite", b.overwrite ? "yes" : "no"}};
        TransferSlot slot(ctx_, user_);
        if (b.overwrite && !may_overwrite()) fail(Errc::permission_denied, "role '" + role_ + "' may not overwrite files");
        const auto& lim = ctx_.cfg.limits;
        const auto qb = static_cast<std::uint64_t>(lim.quota_bytes);
        const auto qf = static_cast<std::uint64_t>(lim.quota_files);
        db::Usage use;
        if (qb || qf) use = ctx_.db->usage(user_);
        // Counted before anything is accepted; a batch that overwrites may replace its own files,
        // so its exact count is settled at the end.
        if (qf && !b.overwrite && use.files + b.count > qf)
            fail(Errc::limit_exceeded, "quota exceeded: " + std::to_string(use.files) + " of " + std::to_string(qf) +
                                           " files used; this batch adds " + std::to_string(b.count));
        const std::uint64_t free = ctx_.store->free_bytes();
        auto batch = ctx_.store->begin_batch();
        ch_.send(proto::OkReply{b.header.request_id, "send the files"}, frame_deadline());

        std::vector<proto::BatchEntry> entries;
        entries.reserve(b.count);
        std::unordered_set<std::string> names;
        std::optional<Error> refused;  // the first file refused
        std::uint64_t bytes = 0, replaced = 0;
        auto refuse = [&](Errc kind, const std::string& why) {
            if (!refused)
                refused.emplace(kind, "file " + std::to_string(entries.size()) + " '" + entries.back().filename + "': " +
                                          why + "; nothing stored");
        };
        proto::BatchEnd end;
        for (;;) {
            proto::Message m = ch_.receive(frame_deadline());
            if (auto* f = std::get_if<proto::BatchFile>(&m)) {
                if (entries.size() == b.count)
                    fail(Errc::limit_exceeded, "more files than the batch announced (" + std::to_string(b.count) + ")");
                proto::BatchEntry& e = entries.emplace_back();
                e.filename = std::move(f->filename);
                e.size = f->data.size();
                bytes += e.size;
                if (refused) continue;  // drained, not stored
                if (!storage::valid_filename(e.filename)) {
                    refuse(Errc::invalid_argument, "invalid file name");
                } else if (is_blank(e.filename)) {
                    refuse(Errc::invalid_argument, kBlankName);
                } else if (!names.insert(e.filename).second) {
                    refuse(Errc::invalid_argument, "name given twice in the batch");
                } else if (e.size > static_cast<std::uint64_t>(lim.max_file_bytes)) {
                    refuse(Errc::limit_exceeded, "file larger than the server's limit");
                } else if (!b.overwrite && ctx_.store->exists(e.filename)) {
                    refuse(Errc::already_exists, "exists (overwrite not requested)");
                } else if (qb && b.overwrite && ctx_.store->exists(e.filename)) {
                    // Replacing one's own file frees its bytes, as for a single upload.
                    if (auto old = ctx_.db->find_file(e.filename); old && old->uploader == user_) replaced += old->size;
                }
                if (refused) continue;
                if (qb && use.bytes + bytes > qb + replaced) {
                    refuse(Errc::limit_exceeded, "quota exceeded: " + std::to_string(use.bytes) + " of " +
                                                     std::to_string(qb) + " bytes used; the batch needs " +
                                                     std::to_string(bytes) + " up to here");
                } else if (bytes > free) {
                    refuse(Errc::limit_exceeded, "not enough space on the server");
                }
                if (refused) continue;
                unsigned int n = 0;
                ossl::check(EVP_Digest(f->data.data(), f->data.size(), e.sha256.data(), &n, EVP_sha256(), nullptr),
                            "EVP_Digest");
                batch.add(f->data);
                continue;
            }
            if (std::holds_alternative<proto::TransferAbort>(m)) {
                ch_.send(proto::OkReply{b.header.request_id, "batch aborted; nothing stored"}, frame_deadline());
                ctx_.log->information("batch of " + std::to_string(b.count) + " by " + who_ + ": aborted by the client");
                return;  // the Batch's destructor removes the staging directory
            }
            end = expect<proto::BatchEnd>(std::move(m));
            break;
        }
        audit_.push_back({"bytes", std::to_string(bytes)});
        if (entries.size() != b.count)
            fail(Errc::integrity, "the batch announced " + std::to_string(b.count) + " files and carried " +
                                      std::to_string(entries.size()) + "; nothing stored");
        if (refused) throw *refused;
        // The manifest as this server received and hashed it: a signature over anything else fails.
        const proto::Bytes record = proto::batch_record(user_, b, entries);
        if (!pki::pss_verify(client_key_.get(), record, end.signature))
            fail(Errc::integrity, "batch signature does not verify against your certificate and the files received; "
                                  "nothing stored");
        if (qf && b.overwrite) {  // exact now: replacing one's own file adds no file
            std::uint64_t added = 0;
            for (const auto& e : entries)
                if (auto old = ctx_.db->find_file(e.filename); !old || old->uploader != user_) ++added;
            if (use.files + added > qf)
                fail(Errc::limit_exceeded, "quota exceeded: " + std::to_string(use.files) + " of " + std::to_string(qf) +
                                               " files used; this batch adds " + std::to_string(added) + "; nothing stored");
        }

        // Group commit: one sync for all the data, the renames, one directory fsync, one
        // transaction for all the rows; any failure puts every file back (Batch's destructor).
        std::vector<std::string> final_names;
        final_names.reserve(entries.size());
        for (const auto& e : entries) final_names.push_back(e.filename);
        batch.commit(final_names, b.overwrite);
        const std::int64_t stored_at = ctx_.clock();
        db::BatchRecord row{0, user_, b.header.timestamp_ms, {b.header.nonce.begin(), b.header.nonce.end()}, record,
                            end.signature, stored_at};
        std::vector<db::FileRecord> files;
        files.reserve(entries.size());
        for (const auto& e : entries)
            files.push_back(db::FileRecord{e.filename, e.size, {e.sha256.begin(), e.sha256.end()}, user_, stored_at,
                                           end.signature, 0});
        const std::int64_t batch_id = ctx_.db->put_batch(row, files);
        batch.finish();
        audit_.push_back({"batch_id", std::to_string(batch_id)});
        std::vector<std::vector<audit::Field>> per_file;
        per_file.reserve(entries.size());
        for (const auto& e : entries)
            per_file.push_back({{"user", user_}, {"serial", serial_}, {"source", peer_}, {"batch_id", std::to_string(batch_id)},
                                {"filename", e.filename}, {"size", std::to_string(e.size)},
                                {"sha256", ossl::hex(e.sha256.data(), e.sha256.size())}});
        ctx_.audit_events("batch_file", std::move(per_file));

        proto::BatchReceipt receipt{b.header.request_id, b.count, stored_at, {}};
        receipt.server_signature =
            pki::pss_sign(ctx_.server_key.get(), proto::batch_receipt_record(user_, b, end.signature, stored_at));
        ch_.send(receipt, frame_deadline());
        ctx_.log->information("batch by " + who_ + ": " + std::to_string(b.count) + " files, " + std::to_string(bytes) +
                              " bytes, stored (batch " + std::to_string(batch_id) + ")");
    }

    void on_download(const proto::DownloadRequest& r) {
        audit_ = {{"filename", r.filename}};
        check_name(r.filename);
        TransferSlot slot(ctx_, user_);
        auto rec = ctx_.db->find_file(r.filename);
        if (!rec) fail(Errc::not_found, "no file '" + r.filename + "'");
        auto reader = ctx_.store->open(r.filename);
        audit_.push_back({"size", std::to_string(rec->size)});
        audit_.push_back({"sha256", ossl::hex(rec->sha256)});
        if (reader.size() != rec->size) fail(Errc::integrity, "stored file does not match its record");
        proto::DownloadHeader h;
        h.request_id = r.header.request_id;
        h.filename = r.filename;
        h.size = rec->size;
        std::copy_n(rec->sha256.begin(), std::min<std::size_t>(32, rec->sha256.size()), h.sha256.begin());
        h.timestamp_ms = ctx_.clock();
        h.nonce = r.header.nonce;
        h.server_signature = pki::pss_sign(ctx_.server_key.get(), proto::download_record(h));
        ch_.send(h, frame_deadline());
        // The server does not re-hash what it sends: the client checks size, hash and signature,
        // so a file damaged on disk is caught where it matters, and dropped there.
        // Sent straight from the page cache, a mapped window at a time: no copy. Stored files
        // are never changed in place (uploads replace them by rename), so a page can only
        // vanish if something outside sftsd truncates the file: then the transfer fails (the
        // client, which checks the hash, drops what it got) and the server goes on.
        MappedReader source(reader.fd(), rec->size);
        for (;;) {
            const auto piece = source.next(proto::max_chunk);
            if (piece.empty()) break;
            ch_.send_chunk(proto::MsgType::download_chunk, piece, frame_deadline());
            if (source.truncated()) fail(Errc::io, "stored file changed while being sent");
        }
        ch_.send(proto::DownloadEnd{r.header.request_id}, frame_deadline());
        ctx_.log->information("download '" + loggable(r.filename) + "' by " + who_ + ": " + std::to_string(rec->size) +
                              " bytes");
    }

    void on_delete(const proto::DeleteRequest& r) {
        audit_ = {{"filename", r.filename}};
        check_name(r.filename);
        if (!ctx_.db->find_file(r.filename) && !ctx_.store->exists(r.filename))
            fail(Errc::not_found, "no file '" + r.filename + "'");
        if (ctx_.store->exists(r.filename)) ctx_.store->remove(r.filename);
        ctx_.db->remove_file(r.filename);
        ch_.send(proto::OkReply{r.header.request_id, "deleted '" + r.filename + "'"}, frame_deadline());
        ctx_.log->information("delete '" + loggable(r.filename) + "' by " + who_);
    }

    void on_update(proto::UpdatePassword& u) {
        auto record = proto::update_password_record(user_, u.header);
        if (!auth::verify_password_change_proof(verifier_, record, u.old_proof)) {
            u.new_password.wipe();
            ctx_.log->warning("password change refused (wrong current password): " + who_);
            ctx_.abuse->login_failed(user_);
            ctx_.abuse->failure(ip_, "password change");
            fail(Errc::auth_failed, "the current password is wrong");
        }
        ctx_.policy->check(u.new_password, user_);
        auto v = auth::make_verifier(u.new_password, static_cast<std::uint32_t>(ctx_.cfg.auth.scram_iterations));
        u.new_password.wipe();
        ctx_.db->set_verifier(user_, v, ctx_.clock());
        refresh_caller();
        ch_.send(proto::OkReply{u.header.request_id, "password changed"}, frame_deadline());
        ctx_.log->notice("password changed: " + who_);
    }

    ServerContext& ctx_;
    net::Channel& ch_;
    std::string peer_;
    Poco::Net::IPAddress ip_;
    std::string user_, serial_, who_, role_;
    ossl::EvpPkeyPtr client_key_;
    auth::ScramVerifier verifier_;
    Caller caller_;
    std::vector<audit::Field> audit_;  // what the running command adds to its audit record
};

}  // namespace

void serve_file_session(ServerContext& ctx, Poco::Net::StreamSocket socket) {
    std::string peer = "?";
    std::unique_ptr<net::Channel> ch;
    try {
        Poco::Net::IPAddress ip = socket.peerAddress().host();
        auto stream = std::make_unique<net::TlsStream>(ctx.file_tls, socket);
        peer = stream->peer_address();
        try {
            stream->handshake(net::deadline_in(milliseconds(ctx.cfg.limits.handshake_timeout_ms)));
        } catch (const Error& e) {
            // A rejected certificate is an authentication failure like any other.
            if (e.kind() == Errc::auth_failed) ctx.abuse->failure(ip, "certificate");
            throw;
        }
        ch = std::make_unique<net::Channel>(std::move(stream), proto::Side::server, proto::Service::file);
        FileSession session(ctx, *ch, peer, ip);
        session.run();
        ch->tls().close(net::deadline_in(std::chrono::seconds(1)));
    } catch (const Error& e) {
        if (e.kind() == Errc::ok) return;  // exit before login
        // What peers do (vanish, time out, fail to authenticate, send garbage) is a warning;
        // only our own failures are errors.
        bool peer_side = e.kind() == Errc::auth_failed || e.kind() == Errc::protocol || e.kind() == Errc::timeout ||
                         e.kind() == Errc::io || e.kind() == Errc::limit_exceeded || e.kind() == Errc::permission_denied;
        auto level = peer_side ? Poco::Message::PRIO_WARNING : Poco::Message::PRIO_ERROR;
        ctx.log->log(Poco::Message(ctx.log->name(),
                                   "file session from " + peer + " ended: " + std::string(errc_name(e.kind())) + ": " +
                                       e.what(),
                                   level));
        if (e.kind() == Errc::crypto || e.kind() == Errc::token) ctx.check_token();  // our side failed: the token?
        if (ch && !ch->session().closed()) {
            try {
                std::string msg = e.kind() == Errc::auth_failed ? "authentication failed"
                                  : e.kind() == Errc::io || e.kind() == Errc::internal || e.kind() == Errc::token
                                      ? "server error"
                                      : std::string(e.what()).substr(0, 512);
                ch->send(proto::ErrorReply::make(0, e.kind(), msg), net::deadline_in(std::chrono::seconds(2)));
                ch->tls().close(net::deadline_in(std::chrono::seconds(1)));
            } catch (...) {
            }
        }
    } catch (const std::exception& e) {
        ctx.log->error("file session from " + peer + ": internal error: " + e.what());
    }
}

}  // namespace sfts::server
