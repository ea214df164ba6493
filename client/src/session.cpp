// The file service, client side: login (SCRAM bound to the TLS session) and the commands.
// Every command carries a fresh timestamp and nonce; every transfer is verified end to end.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>

#include "connect.hpp"
#include "log.hpp"
#include "renew.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/pki/pss.hpp"
#include "sfts/protocol/records.hpp"
#include "sfts/text.hpp"

namespace sfts::client {

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            if (fd_ >= 0) ::close(fd_);
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    int get() const { return fd_; }

private:
    int fd_;
};

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

constexpr std::string_view kPartPrefix = ".sfts-part-";

// What the server refuses for a new file, refused here first with a clearer message than the
// encoder's: a name that prints as a blank.
void check_new_name(const std::string& name) {
    if (is_blank(name))
        fail(Errc::invalid_argument, quote_name(name) + ": a file name cannot be blank (only spaces or invisible characters)");
}

// Removes the temporaries of downloads into dir whose process died (SIGKILL, power cut). A live
// download holds an flock on its temporary, so only files nobody holds are taken for stale,
// and only the very file whose lock we got is unlinked.
void remove_stale_parts(const std::string& dir) {
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;  // the download itself reports an unusable directory
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dfd), ::closedir);
    if (!d) {
        ::close(dfd);
        return;
    }
    while (struct dirent* e = ::readdir(d.get())) {
        if (!std::string_view(e->d_name).starts_with(kPartPrefix)) continue;
        Fd t(::openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (t.get() < 0) continue;
        struct stat held {}, now {};
        if (::flock(t.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a download in progress
        if (::fstat(t.get(), &held) != 0 || !S_ISREG(held.st_mode)) continue;
        if (::fstatat(dfd, e->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == held.st_ino &&
            now.st_dev == held.st_dev)
            ::unlinkat(dfd, e->d_name, 0);
    }
}

}  // namespace

struct Session::Impl {
    ClientConfig cfg;
    std::unique_ptr<net::Channel> ch;
    ossl::EvpPkeyPtr key;
    ossl::X509Ptr cert;
    ossl::EvpPkeyPtr server_key;  // the TLS peer's public key: signs receipts and download headers
    std::string user;
    std::vector<std::uint8_t> salted_password;
    std::vector<std::uint8_t> salt;  // of the login's server-first message
    std::uint32_t iterations = 0;
    std::uint64_t next_id = 1;
    Poco::Logger* log = nullptr;

    ~Impl() {
        if (!salted_password.empty()) OPENSSL_cleanse(salted_password.data(), salted_password.size());
    }

    net::Deadline deadline() const { return step_deadline(cfg); }

    proto::CommandHeader header() {
        // Every command starts here, so a closed session fails cleanly instead of using a null channel.
        if (!ch) fail(Errc::unavailable, "not connected (the session was closed)");
        proto::CommandHeader h;
        h.request_id = next_id++;
        h.timestamp_ms = now_ms();
        auto n = auth::random_bytes(h.nonce.size());
        std::copy(n.begin(), n.end(), h.nonce.begin());
        return h;
    }

    proto::Message receive() { return ch->receive(deadline()); }

    void expect_ok() { expect_reply<proto::OkReply>(receive()); }

    void login(const SecretPrompt& password, const SecretPrompt& new_password) {
        auto hello = expect_reply<proto::ServerHello>(receive());
        if (hello.version != proto::protocol_version) fail(Errc::protocol, "server speaks another protocol version");
        Secret pw;
        if (hello.initial_password_required) {
            pw = new_password();
            ch->send(proto::SetInitialPassword{pw.clone()}, deadline());
            expect_ok();
        } else {
            pw = password();
        }
        auth::ScramClient scram(user, pw, ch->tls().channel_binding());
        pw.wipe();
        ch->send(proto::ScramClientFirst{scram.mechanism(), scram.client_first()}, deadline());
        auto first = expect_reply<proto::ScramServerFirst>(receive());
        ch->send(proto::ScramClientFinal{scram.client_final(first.sasl)}, deadline());
        auto final_msg = expect_reply<proto::ScramServerFinal>(receive());
        scram.verify_server_final(final_msg.sasl);
        salted_password = scram.salted_password();
        salt = scram.salt();
        iterations = scram.iterations();
    }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::connect(const ClientConfig& cfg, const Secret& pin, const SecretPrompt& password,
                                          const SecretPrompt& new_password) {
    auto impl = std::make_unique<Impl>();
    impl->cfg = cfg;
    impl->log = &client_log(cfg);
    Poco::Logger& log = *impl->log;
    std::string where = cfg.host + ":" + std::to_string(cfg.file_port);
    if (!file_exists(cfg.cert_path()) || !file_exists(cfg.ca_path()))
        fail(Errc::not_found, "not enrolled: no " + cfg.cert_path() + " or " + cfg.ca_path() + " (run 'sfts enroll')");
    // before the certificate is read: it may change the token
    with_token(cfg, [&] { finish_interrupted_renewal(cfg, pin); });
    impl->cert = ossl::x509_from_pem(read_file(cfg.cert_path()));
    auto ca = ossl::x509_from_pem(read_file(cfg.ca_path()));
    impl->user = ossl::common_name(X509_get_subject_name(impl->cert.get()));
    impl->key = token_key(cfg, pin);
    if (X509_check_private_key(impl->cert.get(), impl->key.get()) != 1) {
        ossl::drain_errors();
        fail(Errc::integrity, cfg.cert_path() + " is not the certificate of key '" + cfg.key_label + "' in the token");
    }
    net::ClientTlsOptions topts{ca.get(), impl->key.get(), impl->cert.get(), cfg.host};
    impl->ch = logged(log, "connect " + where, [&] {
        return open_channel(cfg, cfg.file_port, net::TlsContext::client(topts), proto::Service::file);
    });
    log.information("connected to " + where + ": " + impl->ch->tls().version() + " " + impl->ch->tls().cipher());
    auto server_cert = impl->ch->tls().peer_certificate();
    impl->server_key.reset(X509_get_pubkey(server_cert.get()));
    logged(log, "login as '" + impl->user + "' at " + where, [&] { impl->login(password, new_password); });
    return std::unique_ptr<Session>(new Session(std::move(impl)));
}

const std::string& Session::user() const { return impl_->user; }

std::string Session::certificate_summary() const {
    std::ostringstream o;
    const ASN1_TIME* na = X509_get0_notAfter(impl_->cert.get());
    struct tm tm {};
    ASN1_TIME_to_tm(na, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    o << "CN=" << impl_->user << ", serial " << ossl::serial_hex(impl_->cert.get()) << ", expires " << buf;
    int days_left = 0, secs_left = 0;
    if (ASN1_TIME_diff(&days_left, &secs_left, nullptr, na) == 1 && impl_->cfg.warn_days > 0 &&
        days_left < impl_->cfg.warn_days)
        o << (days_left < 0 || secs_left < 0 ? " (EXPIRED)" : " (" + std::to_string(days_left) + " days left: sfts renew)");
    return o.str();
}

std::vector<proto::ListEntry> Session::list() {
    return logged(*impl_->log, "ls", [&] { return list_all(); });
}

std::vector<proto::ListEntry> Session::list_all() {
    std::vector<proto::ListEntry> all;
    std::string cursor;
    do {
        impl_->ch->send(proto::ListRequest{impl_->header(), cursor}, impl_->deadline());
        auto page = expect_reply<proto::ListPage>(impl_->receive());
        for (auto& e : page.entries) all.push_back(std::move(e));
        cursor = page.next_cursor;
    } while (!cursor.empty());
    return all;
}

std::vector<std::string> Session::help() {
    return logged(*impl_->log, "help", [&] {
        impl_->ch->send(proto::HelpRequest{impl_->header()}, impl_->deadline());
        return expect_reply<proto::HelpReply>(impl_->receive()).commands;
    });
}

void Session::remove(const std::string& name) {
    logged(*impl_->log, "delete '" + name + "'", [&] {
        impl_->ch->send(proto::DeleteRequest{impl_->header(), name}, impl_->deadline());
        impl_->expect_ok();
    });
}

void Session::change_password(const Secret& new_password) {
    logged(*impl_->log, "update (password change)", [&] { change_password_once(impl_->salted_password, new_password); });
}

void Session::change_password(const Secret& current_password, const Secret& new_password) {
    logged(*impl_->log, "update (password change)", [&] {
        if (impl_->salt.empty()) fail(Errc::unavailable, "not logged in");
        auto salted = auth::salted_password(current_password, impl_->salt, impl_->iterations);
        try {
            change_password_once(salted, new_password);
        } catch (...) {
            OPENSSL_cleanse(salted.data(), salted.size());
            throw;
        }
        OPENSSL_cleanse(salted.data(), salted.size());
    });
}

void Session::change_password_once(std::span<const std::uint8_t> salted_password, const Secret& new_password) {
    proto::UpdatePassword u;
    u.header = impl_->header();
    u.old_proof = auth::password_change_proof(salted_password, proto::update_password_record(impl_->user, u.header));
    u.new_password = new_password.clone();
    impl_->ch->send(u, impl_->deadline());
    impl_->expect_ok();
}

bool Session::connected() const { return impl_->ch != nullptr; }

void Session::close() {
    if (!impl_->ch) return;
    impl_->ch->send(proto::ExitRequest{impl_->header()}, impl_->deadline());
    impl_->expect_ok();
    impl_->ch->tls().close(impl_->deadline());
    impl_->ch.reset();
}

namespace {

bool cancelled(const CancelFlag* cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

}  // namespace

TransferResult Session::upload(const std::string& local_path, const std::string& remote_name, bool overwrite,
                               const Progress& progress, const CancelFlag* cancel) {
    return logged(*impl_->log, "upload '" + remote_name + "' from " + local_path, [&] {
        auto r = upload_once(local_path, remote_name, overwrite, progress, cancel);
        if (r.cancelled) impl_->log->information("upload '" + remote_name + "' cancelled; the server stored nothing");
        return r;
    });
}

TransferResult Session::upload_once(const std::string& local_path, const std::string& remote_name, bool overwrite,
                                    const Progress& progress, const CancelFlag* cancel) {
    check_new_name(remote_name);
    Fd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail(errno == ENOENT ? Errc::not_found : Errc::io, "cannot open " + local_path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) fail(Errc::invalid_argument, local_path + " is not a regular file");
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    auto size = static_cast<std::uint64_t>(st.st_size);

    proto::UploadBegin begin{impl_->header(), remote_name, size, overwrite};
    impl_->ch->send(begin, impl_->deadline());
    impl_->expect_ok();

    ossl::EvpMdCtxPtr md(EVP_MD_CTX_new());
    ossl::check(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
    // Hashed and sent straight from the page cache, a mapped window at a time: no copy.
    MappedReader source(fd.get(), size);
    const std::string shrank = local_path + " shrank while being uploaded; upload cancelled";
    std::uint64_t sent = 0;
    auto abort = [&](Errc kind, const std::string& why) {
        impl_->ch->send(proto::TransferAbort{impl_->header()}, impl_->deadline());
        expect_reply<proto::OkReply>(impl_->receive());
        fail(kind, why);
    };
    while (sent < size) {
        if (cancelled(cancel)) {
            // The server answers the abort with one ok and drops its temporary file.
            impl_->ch->send(proto::TransferAbort{impl_->header()}, impl_->deadline());
            expect_reply<proto::OkReply>(impl_->receive());
            return {remote_name, sent, {}, true};
        }
        const auto piece = source.next(proto::max_chunk);  // not empty: sent < size
        ossl::check(EVP_DigestUpdate(md.get(), piece.data(), piece.size()), "EVP_DigestUpdate");
        impl_->ch->send_chunk(proto::MsgType::upload_chunk, piece, impl_->deadline());
        // Pages that vanished read as zeros: what was hashed and sent is not the file. The
        // abort makes the server drop everything it received.
        if (source.truncated()) abort(Errc::integrity, shrank);
        sent += piece.size();
        if (progress) progress(sent, size);
    }
    proto::UploadEnd end;
    unsigned int len = 0;
    ossl::check(EVP_DigestFinal_ex(md.get(), end.sha256.data(), &len), "EVP_DigestFinal_ex");
    end.signature = pki::pss_sign(impl_->key.get(), proto::upload_record(impl_->user, begin, end.sha256));
    impl_->ch->send(end, impl_->deadline());
    auto receipt = expect_reply<proto::UploadReceipt>(impl_->receive());
    // The receipt must vouch for exactly what we sent and signed.
    if (receipt.user != impl_->user || receipt.filename != remote_name || receipt.size != size ||
        receipt.sha256 != end.sha256 || receipt.nonce != begin.header.nonce ||
        receipt.timestamp_ms != begin.header.timestamp_ms)
        fail(Errc::integrity, "the server's receipt does not match the upload");
    if (!pki::pss_verify(impl_->server_key.get(), proto::receipt_record(receipt, end.signature), receipt.server_signature))
        fail(Errc::integrity, "the server's receipt signature does not verify");
    return {remote_name, size, end.sha256};
}

std::vector<TransferResult> Session::upload_batch(const std::vector<BatchItem>& items, bool overwrite,
                                                 const Progress& progress) {
    return logged(*impl_->log, "batch upload of " + std::to_string(items.size()) + " files",
                  [&] { return upload_batch_once(items, overwrite, progress); });
}

std::vector<TransferResult> Session::upload_batch_once(const std::vector<BatchItem>& items, bool overwrite,
                                                       const Progress& progress) {
    if (items.empty()) fail(Errc::invalid_argument, "a batch needs at least one file");
    if (items.size() > proto::max_batch_files)
        fail(Errc::limit_exceeded, "a batch holds at most " + std::to_string(proto::max_batch_files) + " files");
    // Sizes first, so that a file too large for a batch fails before anything is sent.
    std::uint64_t total = 0;
    for (const auto& it : items) {
        check_new_name(it.remote_name);
        struct stat st {};
        if (::stat(it.local_path.c_str(), &st) != 0)
            fail(errno == ENOENT ? Errc::not_found : Errc::io, "cannot open " + it.local_path + ": " + std::strerror(errno));
        if (!S_ISREG(st.st_mode)) fail(Errc::invalid_argument, it.local_path + " is not a regular file");
        if (static_cast<std::uint64_t>(st.st_size) > proto::max_batch_file_bytes)
            fail(Errc::limit_exceeded, it.local_path + " is larger than a batch carries (" +
                                           std::to_string(proto::max_batch_file_bytes) + " bytes); upload it alone");
        total += static_cast<std::uint64_t>(st.st_size);
    }

    proto::BatchBegin begin{impl_->header(), static_cast<std::uint32_t>(items.size()), overwrite};
    impl_->ch->send(begin, impl_->deadline());
    impl_->expect_ok();
    // A local failure mid-stream: the server drops the batch and answers the abort with one ok.
    auto abort = [&](Errc kind, const std::string& why) {
        impl_->ch->send(proto::TransferAbort{impl_->header()}, impl_->deadline());
        expect_reply<proto::OkReply>(impl_->receive());
        fail(kind, why + "; batch cancelled, nothing stored");
    };
    // The server answers nothing per file. If it must stop the stream (storage failure), it
    // sends its error and closes: that error, not our broken pipe, is what the user needs.
    auto send = [&](const auto& msg) {
        try {
            impl_->ch->send(msg, impl_->deadline());
        } catch (const Error&) {
            std::optional<proto::Message> reply;
            try {
                reply = impl_->ch->receive(net::deadline_in(std::chrono::seconds(2)));
            } catch (...) {
            }
            if (reply) fail_reply(*reply);
            throw;
        }
    };

    std::vector<proto::BatchEntry> entries;
    entries.reserve(items.size());
    std::vector<TransferResult> results;
    results.reserve(items.size());
    std::uint64_t sent = 0;
    proto::BatchFile file;
    for (const auto& it : items) {
        Fd fd(::open(it.local_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) abort(errno == ENOENT ? Errc::not_found : Errc::io, "cannot open " + it.local_path + ": " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) abort(Errc::invalid_argument, it.local_path + " is not a regular file");
        if (static_cast<std::uint64_t>(st.st_size) > proto::max_batch_file_bytes)
            abort(Errc::limit_exceeded, it.local_path + " grew larger than a batch carries");
        // One byte more than the size: a file that grew since fstat is noticed, not cut.
        file.filename = it.remote_name;
        file.data.resize(static_cast<std::size_t>(st.st_size) + 1);
        std::size_t got = 0;
        while (got < file.data.size()) {
            ssize_t n = ::read(fd.get(), file.data.data() + got, file.data.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) abort(Errc::io, "reading " + it.local_path + ": " + std::strerror(errno));
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        if (got != static_cast<std::size_t>(st.st_size)) abort(Errc::integrity, it.local_path + " changed while being read");
        file.data.resize(got);
        proto::BatchEntry& e = entries.emplace_back();
        e.filename = it.remote_name;
        e.size = got;
        unsigned int len = 0;
        ossl::check(EVP_Digest(file.data.data(), got, e.sha256.data(), &len, EVP_sha256(), nullptr), "EVP_Digest");
        send(file);
        sent += got;
        if (progress) progress(sent, total);
        results.push_back({it.remote_name, got, e.sha256});
    }
    proto::BatchEnd end{pki::pss_sign(impl_->key.get(), proto::batch_record(impl_->user, begin, entries))};
    send(end);
    auto receipt = expect_reply<proto::BatchReceipt>(impl_->receive());
    // The receipt must vouch for exactly the manifest we signed: the server signs our signature.
    if (receipt.request_id != begin.header.request_id || receipt.count != begin.count)
        fail(Errc::integrity, "the server's batch receipt does not match the batch");
    if (!pki::pss_verify(impl_->server_key.get(),
                         proto::batch_receipt_record(impl_->user, begin, end.signature, receipt.stored_at_ms),
                         receipt.server_signature))
        fail(Errc::integrity, "the server's batch receipt signature does not verify");
    return results;
}

TransferResult Session::download(const std::string& remote_name, const std::string& dest_path, bool overwrite,
                                 const Progress& progress, const CancelFlag* cancel) {
    return logged(*impl_->log, "download '" + remote_name + "' to " + dest_path, [&] {
        auto r = download_once(remote_name, dest_path, overwrite, progress, cancel);
        if (r.cancelled) impl_->log->information("download '" + remote_name + "' cancelled; connection closed");
        return r;
    });
}

TransferResult Session::download_once(const std::string& remote_name, const std::string& dest_path, bool overwrite,
                                      const Progress& progress, const CancelFlag* cancel) {
    if (!overwrite && file_exists(dest_path)) fail(Errc::already_exists, dest_path + " exists (use --overwrite)");
    // Read-ahead for the whole reply, set while nothing is buffered yet (net::TlsStream).
    // Not net::BulkReads: a cancelled download drops the channel before this scope ends.
    impl_->ch->tls().set_bulk_reads(true);
    struct BulkOff {
        std::unique_ptr<net::Channel>& ch;
        ~BulkOff() {
            if (ch) ch->tls().set_bulk_reads(false);
        }
    } bulk_off{impl_->ch};
    proto::DownloadRequest req{impl_->header(), remote_name};
    impl_->ch->send(req, impl_->deadline());
    auto h = expect_reply<proto::DownloadHeader>(impl_->receive());
    bool header_ok = h.filename == remote_name && h.nonce == req.header.nonce && h.request_id == req.header.request_id &&
                     pki::pss_verify(impl_->server_key.get(), proto::download_record(h), h.server_signature);

    // Into a private temporary file beside the destination; renamed only once verified.
    std::string dir = dir_of(dest_path);
    remove_stale_parts(dir);
    std::string tmp;
    Fd fd(-1);
    for (int attempt = 0; attempt < 8; ++attempt) {
        tmp = dir + "/" + std::string(kPartPrefix) + ossl::hex(auth::random_bytes(6));
        fd = Fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (fd.get() < 0) fail(Errc::io, "cannot create " + tmp + ": " + std::strerror(errno));
        // Held until the end: tells remove_stale_parts in another process that this one is
        // alive. One that took the file for stale between our create and our lock unlinked it:
        // then start again with a new name.
        struct stat st {};
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0 && ::fstat(fd.get(), &st) == 0 && st.st_nlink > 0) break;
        fd = Fd(-1);
    }
    if (fd.get() < 0) fail(Errc::io, "cannot create a temporary file in " + dir);
    struct Cleanup {
        std::string path;
        ~Cleanup() { ::unlink(path.c_str()); }
    } cleanup{tmp};

    ossl::EvpMdCtxPtr md(EVP_MD_CTX_new());
    ossl::check(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
    std::uint64_t got = 0;
    std::string write_error;
    // Writeback runs while the data still arrives, so the fsync below (durable before we
    // report success) waits for one or two windows, not for the whole file.
    WritebackWindow writeback;
    for (;;) {
        proto::Message m = impl_->receive();
        if (auto* c = std::get_if<proto::DownloadChunk>(&m)) {
            got += c->data.size();
            ossl::check(EVP_DigestUpdate(md.get(), c->data.data(), c->data.size()), "EVP_DigestUpdate");
            const std::uint8_t* p = c->data.data();
            std::size_t left = c->data.size();
            while (left > 0 && write_error.empty()) {
                ssize_t n = ::write(fd.get(), p, left);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) write_error = std::strerror(errno);
                else {
                    p += n;
                    left -= static_cast<std::size_t>(n);
                }
            }
            if (write_error.empty()) writeback.wrote(fd.get(), got);
            impl_->ch->recycle(std::move(c->data));  // the next chunk arrives in this memory
            if (progress) progress(got, h.size);
            if (cancelled(cancel)) {
                // transfer_abort would be seen only after the whole file: drop the connection
                // instead. The Cleanup above removes the partial file.
                impl_->ch.reset();
                return {remote_name, got, {}, true};
            }
            continue;
        }
        expect_reply<proto::DownloadEnd>(std::move(m));
        break;
    }
    impl_->ch->release_buffers();
    if (!write_error.empty()) fail(Errc::io, "writing " + tmp + ": " + write_error + "; download dropped");
    proto::Sha256 digest{};
    unsigned int len = 0;
    ossl::check(EVP_DigestFinal_ex(md.get(), digest.data(), &len), "EVP_DigestFinal_ex");
    if (!header_ok) fail(Errc::integrity, "'" + remote_name + "': the server's signature does not verify; download dropped");
    if (got != h.size) fail(Errc::integrity, "'" + remote_name + "': size mismatch; download dropped");
    if (digest != h.sha256) fail(Errc::integrity, "'" + remote_name + "': SHA-256 mismatch (damaged in storage or transit); download dropped");
    if (::fsync(fd.get()) != 0) fail(Errc::io, "cannot sync " + tmp);
    if (overwrite) {
        if (::rename(tmp.c_str(), dest_path.c_str()) != 0) fail(Errc::io, "cannot rename to " + dest_path + ": " + std::strerror(errno));
    } else {
        // link() refuses an existing name atomically: nothing is ever overwritten by surprise.
        if (::link(tmp.c_str(), dest_path.c_str()) != 0)
            fail(errno == EEXIST ? Errc::already_exists : Errc::io, "cannot create " + dest_path + ": " + std::strerror(errno));
    }
    // The temporary name goes either way (after rename() it is already gone); then make the
    // new directory entry durable.
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) ::fsync(dfd.get());
    return {remote_name, h.size, digest};
}

proto::CommandHeader Session::next_header() { return impl_->header(); }

proto::Message Session::exchange(const proto::Message& request) {
    impl_->ch->send(request, impl_->deadline());
    return impl_->receive();
}

const ClientConfig& Session::config() const { return impl_->cfg; }

X509* Session::certificate() const { return impl_->cert.get(); }

}  // namespace sfts::client
