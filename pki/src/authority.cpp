#include "sfts/pki/authority.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <ctime>
#include <functional>
#include <sstream>
#include <vector>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/token.hpp"

namespace sfts::pki {

namespace {

// Undo actions run in reverse unless the set-up commits.
class Rollback {
public:
    void add(std::function<void()> undo) { undo_.push_back(std::move(undo)); }
    void commit() { undo_.clear(); }
    ~Rollback() {
        for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
            try {
                (*it)();
            } catch (...) {  // best effort: the original error is what the user must see
            }
        }
    }

private:
    std::vector<std::function<void()>> undo_;
};

std::string describe(const X509* x) {
    std::ostringstream o;
    o << "CN=" << ossl::common_name(X509_get_subject_name(x)) << ", serial " << ossl::serial_hex(x)
      << ", SHA-256 " << ossl::hex(fingerprint(x));
    return o.str();
}

// An exclusive OFD lock on the state directory's crl.lock for the lifetime of the object. OFD
// locks belong to the open file description: they exclude other threads of this process too,
// and other processes on this host or (NFS) on other nodes.
class CrlLock {
public:
    explicit CrlLock(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_ < 0) fail(Errc::io, "cannot open the CRL lock " + path + ": " + std::strerror(errno));
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        while (::fcntl(fd_, F_OFD_SETLKW, &fl) != 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd_);
            fail(Errc::io, "cannot lock " + path + ": " + std::strerror(e));
        }
    }
    ~CrlLock() { ::close(fd_); }  // closing the description releases the lock
    CrlLock(const CrlLock&) = delete;
    CrlLock& operator=(const CrlLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace

CrlState read_crl_state(const std::string& crl_path) {
    CrlState st;
    try {
        auto crl = ossl::crl_from_pem(read_file(crl_path));
        st.last_update = to_time_t(X509_CRL_get0_lastUpdate(crl.get()), Errc::integrity);
        if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get())) st.next_update = to_time_t(next, Errc::integrity);
        st.readable = true;
    } catch (const Error& e) {
        st.problem = e.what();
    }
    return st;
}

InitResult init_pki(const PkiConfig& cfg, const Secret& pin, bool force) {
    if (cfg.state_dir.empty()) fail(Errc::invalid_argument, "state directory is not configured");
    auto& provider = hsm::KeyProvider::for_module(cfg.module_path);
    hsm::Token token(provider.module(), cfg.token);
    auto session = token.open(true, &pin);

    bool in_token = session.find_key(cfg.ca_label).has_value() || session.find_key(cfg.server_label).has_value();
    bool in_files = file_exists(cfg.ca_cert_path()) || file_exists(cfg.server_cert_path());
    if ((in_token || in_files) && !force)
        fail(Errc::already_exists, std::string("a server PKI already exists (") +
                                       (in_token ? "keys in token '" + token.label() + "'" : "files in " + cfg.state_dir) +
                                       "); pass --force to replace it");
    make_dirs(cfg.state_dir, 0700);
    if (force) {
        session.destroy_objects(cfg.ca_label);
        session.destroy_objects(cfg.server_label);
        if (file_exists(cfg.registry_path())) {
            std::string aside = cfg.registry_path() + ".replaced-" + std::to_string(std::time(nullptr));
            if (::rename(cfg.registry_path().c_str(), aside.c_str()) != 0)
                fail(Errc::io, "cannot move the old registry aside to " + aside);
        }
    }

    Rollback rollback;
    auto ca_key_handle = session.generate_rsa(cfg.ca_label);
    rollback.add([&] { session.destroy_objects(cfg.ca_label); });
    auto ca_key = provider.private_key(cfg.token.with_object(cfg.ca_label, ca_key_handle.id), pin);
    auto ca_cert = make_ca_certificate(ca_key.get(), cfg.ca);
    session.store_certificate(ca_cert.get(), cfg.ca_label, ca_key_handle.id);

    auto srv_handle = session.generate_rsa(cfg.server_label);
    rollback.add([&] { session.destroy_objects(cfg.server_label); });
    auto srv_pub = session.public_key(srv_handle);
    auto srv_cert = issue_server_certificate(ca_cert.get(), ca_key.get(), srv_pub.get(), cfg.server);
    session.store_certificate(srv_cert.get(), cfg.server_label, srv_handle.id);

    bool new_registry = !file_exists(cfg.registry_path());
    std::string crl_pem;
    {
        Registry registry(cfg.registry_path());
        if (new_registry) rollback.add([path = cfg.registry_path()] {
            ::unlink(path.c_str());
            ::unlink((path + "-wal").c_str());
            ::unlink((path + "-shm").c_str());
        });
        registry.record_issued(ca_cert.get(), "ca");
        registry.record_issued(srv_cert.get(), "server");
        auto crl = make_crl(ca_cert.get(), ca_key.get(), registry.revoked(), registry.next_crl_number(), cfg.crl_days);
        crl_pem = ossl::to_pem(crl.get());
    }
    for (const auto& path : {cfg.ca_cert_path(), cfg.server_cert_path(), cfg.crl_path()})
        rollback.add([path] { ::unlink(path.c_str()); });
    write_file_atomic(cfg.ca_cert_path(), ossl::to_pem(ca_cert.get()), 0600);
    write_file_atomic(cfg.server_cert_path(), ossl::to_pem(srv_cert.get()), 0600);
    write_file_atomic(cfg.crl_path(), crl_pem, 0600);
    rollback.commit();

    InitResult r;
    std::ostringstream o;
    o << "token '" << token.label() << "' (" << cfg.module_path << "):\n"
      << "  CA key        " << cfg.ca_label << "  RSA-3072, non-extractable\n"
      << "  server key    " << cfg.server_label << "  RSA-3072, non-extractable\n"
      << "CA certificate      " << cfg.ca_cert_path() << "\n    " << describe(ca_cert.get()) << "\n"
      << "server certificate  " << cfg.server_cert_path() << "\n    " << describe(srv_cert.get()) << "\n"
      << "CRL                 " << cfg.crl_path() << "\n"
      << "registry            " << cfg.registry_path() << "\n";
    r.summary = o.str();
    r.ca_cert = std::move(ca_cert);
    r.server_cert = std::move(srv_cert);
    return r;
}

Authority::Authority(const PkiConfig& cfg, const Secret& pin)
    : cfg_(cfg),
      ca_cert_(ossl::x509_from_pem(read_file(cfg.ca_cert_path()))),
      ca_key_(hsm::KeyProvider::for_module(cfg.module_path).private_key(cfg.token.with_object(cfg.ca_label), pin)),
      registry_(cfg.registry_path()) {
    // The certificate on disk must belong to the key in the token.
    if (X509_check_private_key(ca_cert_.get(), ca_key_.get()) != 1) {
        ossl::drain_errors();
        fail(Errc::integrity, cfg.ca_cert_path() + " does not match the CA key '" + cfg.ca_label + "' in the token");
    }
}

ossl::X509Ptr Authority::issue_client(const ValidatedCsr& csr, std::optional<std::time_t> pending_until) {
    registry_.check_key(csr.public_key.get());
    auto cert = issue_client_certificate(ca_cert_.get(), ca_key_.get(), csr, cfg_.client);
    registry_.record_issued(cert.get(), "client", pending_until);
    return cert;
}

ossl::X509Ptr Authority::renew_client(const ValidatedCsr& csr, const std::string& old_serial, int days) {
    auto old = registry_.find(old_serial);
    if (!old) fail(Errc::not_found, "no certificate with serial " + old_serial + " was issued here");
    if (old->kind != "client" || old->subject != csr.username)
        fail(Errc::permission_denied, "certificate " + old_serial + " is not a client certificate of '" + csr.username + "'");
    if (old->revoked_at) fail(Errc::permission_denied, "certificate " + old_serial + " is revoked (already renewed?)");
    if (old->pending()) fail(Errc::permission_denied, "certificate " + old_serial + " is not confirmed yet");
    registry_.check_key(csr.public_key.get());
    ClientCertOptions opts = cfg_.client;
    if (days > 0) opts.days = days;
    auto cert = issue_client_certificate(ca_cert_.get(), ca_key_.get(), csr, opts);
    registry_.record_issued(cert.get(), "client");
    std::string fresh = ossl::serial_hex(cert.get());
    try {
        registry_.revoke(old_serial, 4 /* superseded, RFC 5280 5.3.1 */, std::time(nullptr));
        publish_crl();
    } catch (...) {
        try {
            registry_.revoke(fresh, 4, std::time(nullptr));
        } catch (...) {  // the original error is what the caller must see
        }
        throw;
    }
    return cert;
}

ossl::X509Ptr Authority::renew_server(const Secret& pin) {
    auto& provider = hsm::KeyProvider::for_module(cfg_.module_path);
    hsm::Token token(provider.module(), cfg_.token);
    auto session = token.open(true, &pin);
    const std::string label = cfg_.server_label, next = label + "-next", previous = label + "-previous";
    if (!session.find_key(label)) fail(Errc::not_found, "no server key '" + label + "' in token '" + token.label() + "': run 'sfts-admin init' first");
    session.destroy_objects(next);  // left by an interrupted renewal: never in use

    Rollback rollback;
    auto handle = session.generate_rsa(next);
    rollback.add([&] { session.destroy_objects(next); });
    auto pub = session.public_key(handle);
    auto cert = issue_server_certificate(ca_cert_.get(), ca_key_.get(), pub.get(), cfg_.server);
    session.store_certificate(cert.get(), next, handle.id);
    registry_.record_issued(cert.get(), "server");

    session.destroy_objects(previous);
    session.relabel(label, previous);
    rollback.add([&] { session.relabel(previous, label); });
    session.relabel(next, label);
    rollback.add([&] { session.relabel(label, next); });
    write_file_atomic(cfg_.server_cert_path(), ossl::to_pem(cert.get()));
    rollback.commit();
    return cert;
}

void Authority::revoke(const std::string& serial_hex, int reason) {
    registry_.revoke(serial_hex, reason, std::time(nullptr));
    publish_crl();
}

std::vector<unsigned char> Authority::derive_secret(std::string_view purpose) {
    constexpr std::string_view domain = "sfts-derived-key-v1";
    std::vector<unsigned char> info;
    auto lp = [&](std::string_view s) {
        auto n = static_cast<std::uint32_t>(s.size());
        for (int shift = 24; shift >= 0; shift -= 8) info.push_back(static_cast<unsigned char>(n >> shift));
        info.insert(info.end(), s.begin(), s.end());
    };
    lp(domain);
    lp(purpose);
    if (EVP_PKEY_get_base_id(ca_key_.get()) != EVP_PKEY_RSA)
        fail(Errc::crypto, "deriving a key needs an RSA CA key (deterministic signatures)");
    auto digest = ossl::sha256(info.data(), info.size());
    auto sign = [&] {
        ossl::EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new(ca_key_.get(), nullptr));
        if (!pctx || EVP_PKEY_sign_init(pctx.get()) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx.get(), RSA_PKCS1_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_signature_md(pctx.get(), EVP_sha256()) <= 0)
            ossl::fail_ossl(Errc::crypto, "CA key: signature set-up for key derivation");
        std::size_t n = 0;
        if (EVP_PKEY_sign(pctx.get(), nullptr, &n, digest.data(), digest.size()) <= 0)
            ossl::fail_ossl(Errc::crypto, "CA key: signature size for key derivation");
        std::vector<unsigned char> sig(n);
        if (EVP_PKEY_sign(pctx.get(), sig.data(), &n, digest.data(), digest.size()) <= 0)
            ossl::fail_ossl(Errc::crypto, "CA key: signature for key derivation");
        sig.resize(n);
        return sig;
    };
    auto s1 = sign();
    auto s2 = sign();
    bool same = s1 == s2;
    std::vector<unsigned char> in(info.begin(), info.end());
    auto n = static_cast<std::uint32_t>(s1.size());
    for (int shift = 24; shift >= 0; shift -= 8) in.push_back(static_cast<unsigned char>(n >> shift));
    in.insert(in.end(), s1.begin(), s1.end());
    auto out = ossl::sha256(in.data(), in.size());
    OPENSSL_cleanse(s1.data(), s1.size());
    OPENSSL_cleanse(s2.data(), s2.size());
    OPENSSL_cleanse(in.data(), in.size());
    if (!same) fail(Errc::crypto, "the CA key's signatures are not deterministic: cannot derive a key from it");
    return out;
}

ossl::X509CrlPtr Authority::publish_crl() {
    CrlLock lock(cfg_.crl_lock_path());
    auto crl = make_crl(ca_cert_.get(), ca_key_.get(), registry_.revoked(), registry_.next_crl_number(), cfg_.crl_days);
    write_file_atomic(cfg_.crl_path(), ossl::to_pem(crl.get()), 0600);
    return crl;
}

bool Authority::refresh_crl_if_due(std::time_t now) {
    auto due = [&] {
        auto st = read_crl_state(cfg_.crl_path());
        return !st.readable || st.next_update == 0 || st.next_update - now < cfg_.crl_refresh_margin_s();
    };
    if (!due()) return false;
    CrlLock lock(cfg_.crl_lock_path());
    if (!due()) return false;  // another node re-signed it while we waited for the lock
    auto crl = make_crl(ca_cert_.get(), ca_key_.get(), registry_.revoked(), registry_.next_crl_number(), cfg_.crl_days);
    write_file_atomic(cfg_.crl_path(), ossl::to_pem(crl.get()));
    return true;
}

}  // namespace sfts::pki
