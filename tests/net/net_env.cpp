#include "net_env.hpp"

#include <openssl/pem.h>

#include <ctime>

#include "sfts/hsm/key_provider.hpp"
#include "sfts/pki/x509.hpp"

namespace sfts::nettest {

namespace {

void add_ext(X509* x, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
    ossl::X509ExtPtr e(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!e || X509_add_ext(x, e.get(), -1) != 1) throw std::runtime_error(std::string("bad test extension ") + value);
}

// A client certificate exactly as sfts issues them, but with the validity (and, if asked, the
// basicConstraints and keyUsage) a test wants.
ossl::X509Ptr client_cert_valid_between(X509* ca, EVP_PKEY* ca_key, EVP_PKEY* key, const char* cn, long from, long to,
                                        const char* basic = "critical,CA:FALSE",
                                        const char* usage = "critical,digitalSignature") {
    ossl::X509Ptr x(X509_new());
    X509_set_version(x.get(), X509_VERSION_3);
    auto serial = pki::random_serial();
    X509_set_serialNumber(x.get(), serial.get());
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(x.get(), X509_get_subject_name(ca));
    X509_gmtime_adj(X509_getm_notBefore(x.get()), from);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), to);
    X509_set_pubkey(x.get(), key);
    add_ext(x.get(), ca, NID_basic_constraints, basic);
    add_ext(x.get(), ca, NID_key_usage, usage);
    add_ext(x.get(), ca, NID_ext_key_usage, "clientAuth");
    add_ext(x.get(), ca, NID_subject_key_identifier, "hash");
    add_ext(x.get(), ca, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(x.get(), ca_key, EVP_sha256()) <= 0) throw std::runtime_error("test certificate: sign failed");
    return x;
}

ossl::X509Ptr issue(const Pki& p, X509* ca, EVP_PKEY* ca_key, const std::string& user) {
    auto csr = pki::make_csr(p.client_key.get(), user);
    return pki::issue_client_certificate(ca, ca_key, pki::validate_csr(csr.get()), {30});
}

std::string private_key_pem(EVP_PKEY* k) {
    ossl::BioPtr b(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Pki::Pki() {
    {
        auto s = tok.token->open(true, &tok.pin);
        s.generate_rsa("ca");
        auto server = s.generate_rsa("server");
        auto server_public = s.public_key(server);
        auto& provider = hsm::KeyProvider::for_module(test::module_path());
        ca_key = provider.private_key(tok.uri.with_object("ca"), tok.pin);
        server_key = provider.private_key(tok.uri.with_object("server"), tok.pin);
        ca_cert = pki::make_ca_certificate(ca_key.get(), {"net test CA", "sfts tests", 30});
        server_cert = pki::issue_server_certificate(ca_cert.get(), ca_key.get(), server_public.get(),
                                                    {"localhost", {"localhost"}, {"127.0.0.1"}, 30});
    }
    client_key.reset(EVP_RSA_gen(3072));
    alice = issue(*this, ca_cert.get(), ca_key.get(), "alice");
    bob = issue(*this, ca_cert.get(), ca_key.get(), "bob");
    expired = client_cert_valid_between(ca_cert.get(), ca_key.get(), client_key.get(), "alice", -7200, -3600);
    ca_leaf = client_cert_valid_between(ca_cert.get(), ca_key.get(), client_key.get(), "alice", -60, 86400,
                                        "critical,CA:TRUE", "critical,digitalSignature,keyCertSign");
    // Another CA (a P-256 key: fast to make; the point is only that we never trusted it).
    ossl::EvpPkeyPtr other_ca_key(EVP_EC_gen("P-256"));
    auto other_ca = pki::make_ca_certificate(other_ca_key.get(), {"other CA", "", 30});
    foreign = client_cert_valid_between(other_ca.get(), other_ca_key.get(), client_key.get(), "alice", -60, 86400);
    empty_crl = pki::make_crl(ca_cert.get(), ca_key.get(), {}, 1);
    revoked_bob = pki::make_crl(ca_cert.get(), ca_key.get(), {{ossl::serial_hex(bob.get()), std::time(nullptr), 1}}, 2);

    test::write_text(file("ca.pem"), ossl::to_pem(ca_cert.get()));
    test::write_text(file("alice.pem"), ossl::to_pem(alice.get()));
    test::write_text(file("bob.pem"), ossl::to_pem(bob.get()));
    test::write_text(file("expired.pem"), ossl::to_pem(expired.get()));
    test::write_text(file("foreign.pem"), ossl::to_pem(foreign.get()));
    test::write_text(file("ca_leaf.pem"), ossl::to_pem(ca_leaf.get()));
    test::write_text(file("client.key"), private_key_pem(client_key.get()));
}

const Pki& pki() {
    static const Pki p;
    return p;
}

std::shared_ptr<net::TlsContext> server_context(bool require_client_cert, const X509_CRL* crl) {
    const Pki& p = pki();
    return net::TlsContext::server({p.server_key.get(), p.server_cert.get(), p.ca_cert.get(), require_client_cert, crl});
}

std::shared_ptr<net::TlsContext> client_context(X509* cert, const std::string& server_name) {
    const Pki& p = pki();
    return net::TlsContext::client({p.ca_cert.get(), cert ? p.client_key.get() : nullptr, cert, server_name});
}


bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

Poco::Net::StreamSocket tcp_connect(std::uint16_t port) {
    Poco::Net::StreamSocket s;
    s.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
    return s;
}

std::unique_ptr<net::TlsStream> tls_connect(std::shared_ptr<net::TlsContext> ctx, std::uint16_t port) {
    return std::make_unique<net::TlsStream>(std::move(ctx), tcp_connect(port));
}

LoopbackServer::LoopbackServer(std::shared_ptr<net::TlsContext> ctx, After after, std::chrono::milliseconds timeout)
    : listener_(Poco::Net::SocketAddress("127.0.0.1", 0)), port_(listener_.address().port()) {
    thread_ = std::thread([this, ctx = std::move(ctx), after = std::move(after), timeout]() mutable {
        serve(std::move(ctx), std::move(after), timeout);
    });
}

LoopbackServer::~LoopbackServer() {
    if (thread_.joinable()) thread_.join();
}

void LoopbackServer::serve(std::shared_ptr<net::TlsContext> ctx, After after, std::chrono::milliseconds timeout) {
    try {
        // Never block a test run forever on a client that did not come.
        if (!listener_.poll(Poco::Timespan(20, 0), Poco::Net::Socket::SELECT_READ))
            fail(Errc::timeout, "loopback server: no client connected");
        auto stream = std::make_unique<net::TlsStream>(ctx, listener_.acceptConnection());
        stream->handshake(net::deadline_in(timeout));
        outcome_.version = stream->version();
        outcome_.cipher = stream->cipher();
        if (auto peer = stream->peer_certificate()) outcome_.peer_cn = ossl::common_name(X509_get_subject_name(peer.get()));
        if (after)
            after(std::move(stream));
        else
            stream->close(net::deadline_in(2s));
    } catch (const Error& e) {
        outcome_.kind = e.kind();
        outcome_.message = e.what();
    } catch (const std::exception& e) {
        outcome_.kind = Errc::internal;
        outcome_.message = std::string("unexpected exception: ") + e.what();
    }
    finished_ = true;
}

const LoopbackServer::Outcome& LoopbackServer::wait() {
    if (thread_.joinable()) thread_.join();
    return outcome_;
}

}  // namespace sfts::nettest
