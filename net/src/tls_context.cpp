// SSL_CTX policy (docs/conventions.md §9): every setting is made here, checked, and tested in
// tests/net. A setting OpenSSL refuses is fatal: a server that silently runs with a weaker
// policy than configured is worse than one that does not start.
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sfts/net/tls.hpp"

namespace sfts::net {

using ossl::check;
using ossl::check_ptr;

namespace {

using SslCtxPtr = std::unique_ptr<SSL_CTX, ossl::Deleter<SSL_CTX_free>>;

// Legacy renegotiation has had attacks (CVE-2009-3555) and costs the server a handshake per
// request (CVE-2011-1473); compression leaks plaintext lengths (CRIME).
constexpr std::uint64_t kCommonOptions = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
constexpr std::uint64_t kRefusedOptions = SSL_OP_ALLOW_CLIENT_RENEGOTIATION |
                                          SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION |
                                          SSL_OP_LEGACY_SERVER_CONNECT;

void set_options(SSL_CTX* ctx, std::uint64_t want) {
    SSL_CTX_clear_options(ctx, kRefusedOptions);
    const std::uint64_t now = SSL_CTX_set_options(ctx, want);
    if ((now & want) != want || (now & kRefusedOptions) != 0)
        fail(Errc::crypto, "SSL_CTX_set_options: OpenSSL did not accept the option set");
}

// Version floor, ciphers, groups, options: identical for both sides.
SslCtxPtr make_ctx(const SSL_METHOD* method, std::uint64_t options) {
    SslCtxPtr ctx(check_ptr(SSL_CTX_new(method), "SSL_CTX_new"));
    SSL_CTX* c = ctx.get();
    check(static_cast<int>(SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION)), "SSL_CTX_set_min_proto_version");
    // Level 2 (112-bit keys and signatures: no RSA-1024, no SHA-1 certificates) whatever the
    // system's openssl.cnf says or the library was built with (upstream's built-in level is 1).
    SSL_CTX_set_security_level(c, 2);
    check(SSL_CTX_set_cipher_list(c, kTls12Ciphers), "SSL_CTX_set_cipher_list");
    check(SSL_CTX_set_ciphersuites(c, kTls13Suites), "SSL_CTX_set_ciphersuites");
    check(static_cast<int>(SSL_CTX_set1_groups_list(c, kGroups)), "SSL_CTX_set1_groups_list");
    // No resumption: a resumed session skips certificate verification, so a client whose
    // certificate was revoked (set_crl) could come back on an old ticket. Every connection
    // does a full handshake; our connections are long-lived, so the cost is small.
    set_options(c, options | SSL_OP_NO_TICKET);
    check(SSL_CTX_set_num_tickets(c, 0), "SSL_CTX_set_num_tickets");
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    // write_all retries from the same span, but the moving-buffer mode keeps a retry after
    // WANT_WRITE legal whatever the caller's buffer does. (Read-ahead was measured on the
    // 64 MiB upload test: no gain, so OpenSSL reads one record at a time as by default.)
    SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

void use_key_pair(SSL_CTX* ctx, X509* cert, EVP_PKEY* key) {
    check(SSL_CTX_use_certificate(ctx, cert), "SSL_CTX_use_certificate", Errc::invalid_argument);
    check(SSL_CTX_use_PrivateKey(ctx, key), "SSL_CTX_use_PrivateKey", Errc::invalid_argument);
    check(SSL_CTX_check_private_key(ctx), "SSL_CTX_check_private_key: key does not match certificate",
          Errc::invalid_argument);
}

// Trust only our CA: never the system store, which would let any public CA vouch for a client.
ossl::X509StorePtr make_store(X509* ca_cert, const X509_CRL* crl, int purpose) {
    ossl::X509StorePtr store(check_ptr(X509_STORE_new(), "X509_STORE_new"));
    check(X509_STORE_add_cert(store.get(), ca_cert), "X509_STORE_add_cert");
    unsigned long flags = X509_V_FLAG_X509_STRICT;
    if (crl) {
        check(X509_STORE_add_crl(store.get(), const_cast<X509_CRL*>(crl)), "X509_STORE_add_crl");
        flags |= X509_V_FLAG_CRL_CHECK;
    }
    check(X509_STORE_set_flags(store.get(), flags), "X509_STORE_set_flags");
    check(X509_STORE_set_purpose(store.get(), purpose), "X509_STORE_set_purpose");
    return store;
}

// A client certificate names one end entity. OpenSSL's sslclient purpose does not look at the
// leaf's basicConstraints, so a certificate with CA markings (CA:TRUE, keyCertSign) would log
// in like any other; refuse it (RFC 5280 4.2.1.9: such a key may mint identities).
int refuse_ca_leaf(int ok, X509_STORE_CTX* store) {
    if (ok && X509_STORE_CTX_get_error_depth(store) == 0) {
        X509* cert = X509_STORE_CTX_get_current_cert(store);
        const std::uint32_t flags = cert ? X509_get_extension_flags(cert) : 0;
        const bool cert_sign = (flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) != 0;
        if (cert && ((flags & EXFLAG_CA) != 0 || cert_sign || X509_check_ca(cert) != 0)) {
            X509_STORE_CTX_set_error(store, X509_V_ERR_INVALID_NON_CA);
            return 0;
        }
    }
    return ok;
}

// The store is handed over under the lock; set1 takes its own reference.
void install_store(SSL_CTX* ctx, X509_STORE* store) {
    check(static_cast<int>(SSL_CTX_set1_verify_cert_store(ctx, store)), "SSL_CTX_set1_verify_cert_store");
}

}  // namespace

TlsContext::TlsContext(SSL_CTX* ctx, bool server, std::string server_name)
    : ctx_(ctx), server_(server), server_name_(std::move(server_name)) {}

TlsContext::~TlsContext() {
    SSL_CTX_free(ctx_);
    X509_free(ca_cert_);
}

std::shared_ptr<TlsContext> TlsContext::server(const ServerTlsOptions& opts) {
    if (!opts.key || !opts.cert || !opts.ca_cert)
        fail(Errc::invalid_argument, "TLS server: key, certificate and CA certificate are required");
    SslCtxPtr ctx = make_ctx(TLS_server_method(), kCommonOptions | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX* c = ctx.get();
    use_key_pair(c, opts.cert, opts.key);
    check(static_cast<int>(SSL_CTX_add1_chain_cert(c, opts.ca_cert)), "SSL_CTX_add1_chain_cert");
    if (opts.require_client_cert) {
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, refuse_ca_leaf);
        // sslclient: a server certificate (serverAuth only) cannot be used to log in.
        check(SSL_CTX_set_purpose(c, X509_PURPOSE_SSL_CLIENT), "SSL_CTX_set_purpose");
        check(SSL_CTX_add_client_CA(c, opts.ca_cert), "SSL_CTX_add_client_CA");
        auto store = make_store(opts.ca_cert, opts.crl, X509_PURPOSE_SSL_CLIENT);
        install_store(c, store.get());
    } else {
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    }
    // Private constructor: make_shared cannot reach it. ctx passes to the new owner only
    // once the allocation succeeded.
    std::shared_ptr<TlsContext> self(new TlsContext(c, true, {}));
    ctx.release();
    check(X509_up_ref(opts.ca_cert), "X509_up_ref");
    self->ca_cert_ = opts.ca_cert;
    return self;
}

std::shared_ptr<TlsContext> TlsContext::client(const ClientTlsOptions& opts) {
    if (!opts.key != !opts.cert) fail(Errc::invalid_argument, "TLS client: key and certificate go together");
    if (opts.ca_cert && opts.server_name.empty())
        fail(Errc::invalid_argument, "TLS client: a server name is required to verify the server");
    SslCtxPtr ctx = make_ctx(TLS_client_method(), kCommonOptions);
    SSL_CTX* c = ctx.get();
    if (opts.cert) use_key_pair(c, opts.cert, opts.key);
    if (opts.ca_cert) {
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
        check(SSL_CTX_set_purpose(c, X509_PURPOSE_SSL_SERVER), "SSL_CTX_set_purpose");
        auto store = make_store(opts.ca_cert, nullptr, X509_PURPOSE_SSL_SERVER);
        install_store(c, store.get());
    } else {
        // Enrollment only: the server is authenticated afterwards by the HMAC proof over its
        // certificate (docs/protocol.md section 8).
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    }
    std::shared_ptr<TlsContext> self(new TlsContext(c, false, opts.server_name));
    ctx.release();
    if (opts.ca_cert) {
        check(X509_up_ref(opts.ca_cert), "X509_up_ref");
        self->ca_cert_ = opts.ca_cert;
    }
    return self;
}

void TlsContext::set_crl(const X509_CRL* crl) {
    if (!server_ || !ca_cert_ || SSL_CTX_get_verify_mode(ctx_) == SSL_VERIFY_NONE)
        fail(Errc::invalid_argument, "set_crl: this context does not verify client certificates");
    auto store = make_store(ca_cert_, crl, X509_PURPOSE_SSL_CLIENT);
    std::lock_guard lock(store_mutex_);
    install_store(ctx_, store.get());
}

}  // namespace sfts::net
