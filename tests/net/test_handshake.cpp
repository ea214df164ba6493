// Handshakes between our own client and server: versions, ciphers, channel binding, who
// verifies what, and CRL replacement.
#include <boost/test/unit_test.hpp>

#include "net_env.hpp"
#include "sfts/net/channel.hpp"

using namespace sfts;
using namespace sfts::nettest;

namespace {

// Both ends list AES-128-GCM first (net/include/sfts/net/tls.hpp): that is what they agree on.
constexpr const char* kPreferred13 = "TLS_AES_128_GCM_SHA256";
constexpr const char* kPreferred12 = "ECDHE-RSA-AES128-GCM-SHA256";

struct PairResult {
    LoopbackServer::Outcome server;
    std::vector<std::uint8_t> server_binding;
    Errc server_binding_error = Errc::ok;
};

// Handshakes a client of client_ctx with a server of server_ctx and runs check on the client
// end; the server records its channel binding (or why it had none) and waits for the
// client's close_notify.
PairResult with_pair(std::shared_ptr<net::TlsContext> server_ctx, std::shared_ptr<net::TlsContext> client_ctx,
                     const std::function<void(net::TlsStream&)>& check) {
    PairResult r;
    LoopbackServer srv(std::move(server_ctx), [&](std::unique_ptr<net::TlsStream> s) {
        r.server_binding_error = kind_of([&] { r.server_binding = s->channel_binding(); });
        std::uint8_t b[16];
        s->read_some(b, net::deadline_in(10s));
        s->close(net::deadline_in(1s));
    });
    auto client = tls_connect(std::move(client_ctx), srv.port());
    std::string msg;
    Errc k = kind_of([&] { client->handshake(net::deadline_in(10s)); }, &msg);
    BOOST_TEST((k == Errc::ok), msg);
    if (k == Errc::ok) check(*client);
    client->close(net::deadline_in(1s));
    r.server = srv.wait();
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handshake)

BOOST_AUTO_TEST_CASE(mutual_tls13_with_token_key_and_a_message_round_trip) {
    const Pki& p = pki();
    std::vector<std::uint8_t> server_binding;
    std::string server_version, server_cipher;
    proto::Message received;
    LoopbackServer srv(server_context(true, p.empty_crl.get()), [&](std::unique_ptr<net::TlsStream> s) {
        server_binding = s->channel_binding();
        net::Channel ch(std::move(s), proto::Side::server, proto::Service::file);
        received = ch.receive(net::deadline_in(10s));
        ch.send(proto::ServerHello{proto::protocol_version, true}, net::deadline_in(10s));
        ch.tls().close(net::deadline_in(2s));
    });
    auto stream = tls_connect(client_context(p.alice.get()), srv.port());
    stream->handshake(net::deadline_in(10s));
    BOOST_TEST(stream->version() == "TLSv1.3");
    BOOST_TEST(stream->cipher() == kPreferred13);
    auto client_binding = stream->channel_binding();
    auto server_cert = stream->peer_certificate();
    BOOST_REQUIRE(server_cert);
    BOOST_TEST(X509_cmp(server_cert.get(), p.server_cert.get()) == 0);
    BOOST_TEST(contains(stream->peer_address(), "127.0.0.1:"), stream->peer_address());

    net::Channel ch(std::move(stream), proto::Side::client, proto::Service::file);
    ch.send(proto::Hello{proto::protocol_version, proto::Service::file}, net::deadline_in(10s));
    auto reply = ch.receive(net::deadline_in(10s));
    BOOST_REQUIRE(std::holds_alternative<proto::ServerHello>(reply));
    BOOST_TEST(std::get<proto::ServerHello>(reply).initial_password_required);
    BOOST_TEST((ch.session().state() == proto::State::authenticating));
    // The server's close_notify is the end of the conversation: io, not a hang or a frame.
    std::string msg;
    BOOST_TEST((kind_of([&] { ch.receive(net::deadline_in(10s)); }, &msg) == Errc::io));
    BOOST_TEST(contains(msg, "closed by peer"), msg);

    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::ok), out.message);
    BOOST_TEST(out.version == "TLSv1.3");
    BOOST_TEST(out.cipher == kPreferred13);
    BOOST_TEST(out.peer_cn == "alice");
    BOOST_REQUIRE(std::holds_alternative<proto::Hello>(received));
    BOOST_TEST((std::get<proto::Hello>(received).service == proto::Service::file));
    BOOST_TEST(client_binding.size() == 32u);
    BOOST_TEST(client_binding == server_binding);
}

BOOST_AUTO_TEST_CASE(tls12_negotiates_ecdhe_rsa_aes_gcm_and_binds_with_ems_only) {
    const Pki& p = pki();
    auto client_ctx = client_context(p.alice.get());
    BOOST_REQUIRE(SSL_CTX_set_max_proto_version(client_ctx->get(), TLS1_2_VERSION) == 1);
    std::vector<std::uint8_t> binding;
    auto r = with_pair(server_context(true, p.empty_crl.get()), client_ctx, [&](net::TlsStream& c) {
        BOOST_TEST(c.version() == "TLSv1.2");
        const std::string cipher = c.cipher();
        BOOST_TEST(cipher == kPreferred12);
        // OpenSSL negotiates the extended master secret by default, so tls-exporter is safe.
        binding = c.channel_binding();
    });
    BOOST_TEST((r.server.kind == Errc::ok), r.server.message);
    BOOST_TEST(r.server.version == "TLSv1.2");
    BOOST_TEST(binding.size() == 32u);
    BOOST_TEST(r.server_binding == binding);

    // Without EMS (RFC 7627) the exporter is not unique to the connection: refused.
    auto no_ems = client_context(p.alice.get());
    SSL_CTX_set_max_proto_version(no_ems->get(), TLS1_2_VERSION);
    SSL_CTX_set_options(no_ems->get(), SSL_OP_NO_EXTENDED_MASTER_SECRET);
    auto r2 = with_pair(server_context(true, p.empty_crl.get()), no_ems, [&](net::TlsStream& c) {
        BOOST_TEST(c.version() == "TLSv1.2");
        std::string msg;
        BOOST_TEST((kind_of([&] { c.channel_binding(); }, &msg) == Errc::unavailable));
        BOOST_TEST(contains(msg, "extended master secret"), msg);
    });
    BOOST_TEST((r2.server_binding_error == Errc::unavailable));
}

BOOST_AUTO_TEST_CASE(client_checks_the_server_name) {
    for (const std::string bad : {"wrong.example", "127.0.0.2"}) {
        LoopbackServer srv(server_context(false));
        auto s = tls_connect(client_context(nullptr, bad), srv.port());
        std::string msg;
        BOOST_TEST((kind_of([&] { s->handshake(net::deadline_in(10s)); }, &msg) == Errc::auth_failed), bad);
        BOOST_TEST(contains(msg, "mismatch"), msg);
        s.reset();
        const auto& out = srv.wait();
        BOOST_TEST((out.kind == Errc::auth_failed), out.message);  // our client's alert: bad certificate
    }
    for (const std::string good : {"localhost", "127.0.0.1"}) {
        LoopbackServer srv(server_context(false));
        auto s = tls_connect(client_context(nullptr, good), srv.port());
        std::string msg;
        BOOST_TEST((kind_of([&] { s->handshake(net::deadline_in(10s)); }, &msg) == Errc::ok), good + ": " + msg);
        s->close(net::deadline_in(1s));
        BOOST_TEST((srv.wait().kind == Errc::ok), srv.wait().message);
    }
}

BOOST_AUTO_TEST_CASE(enrollment_mode_does_not_verify_but_shows_the_certificate) {
    const Pki& p = pki();
    // The server drops the connection without close_notify.
    LoopbackServer srv(server_context(false), [](std::unique_ptr<net::TlsStream>) {});
    // A certificate the client could not verify (no CA yet, and a name it does not carry).
    auto ctx = net::TlsContext::client({nullptr, nullptr, nullptr, "enroll.example"});
    auto s = tls_connect(ctx, srv.port());
    s->handshake(net::deadline_in(10s));
    auto cert = s->peer_certificate();
    BOOST_REQUIRE(cert);
    BOOST_TEST(X509_cmp(cert.get(), p.server_cert.get()) == 0);
    // The unverified chain must not colour later errors: an EOF is io, not auth_failed.
    std::uint8_t b[16];
    std::string msg;
    BOOST_TEST((kind_of([&] { s->read_some(b, net::deadline_in(10s)); }, &msg) == Errc::io), msg);
    BOOST_TEST(contains(msg, "closed"), msg);
    BOOST_TEST((srv.wait().kind == Errc::ok), srv.wait().message);
}

BOOST_AUTO_TEST_CASE(server_certificate_cannot_log_in_and_no_certificate_is_refused) {
    const Pki& p = pki();
    // The server's own certificate and token key, presented as a client: serverAuth only.
    {
        LoopbackServer srv(server_context(true, p.empty_crl.get()));
        auto ctx = net::TlsContext::client({p.ca_cert.get(), p.server_key.get(), p.server_cert.get(), "localhost"});
        auto s = tls_connect(ctx, srv.port());
        kind_of([&] { s->handshake(net::deadline_in(10s)); });
        const auto& out = srv.wait();
        BOOST_TEST((out.kind == Errc::auth_failed), out.message);
        BOOST_TEST(contains(out.message, "purpose"), out.message);
    }
    // No certificate: in TLS 1.3 the client finishes first and learns of it on its first read.
    {
        LoopbackServer srv(server_context(true, p.empty_crl.get()));
        auto s = tls_connect(client_context(nullptr), srv.port());
        s->handshake(net::deadline_in(10s));
        std::uint8_t b[16];
        std::string msg;
        BOOST_TEST((kind_of([&] { s->read_some(b, net::deadline_in(10s)); }, &msg) == Errc::auth_failed));
        BOOST_TEST(contains(msg, "certificate required"), msg);
        const auto& out = srv.wait();
        BOOST_TEST((out.kind == Errc::auth_failed), out.message);
    }
}

// The race a busy machine shows: the server refuses our certificate after our TLS 1.3
// handshake ended and its close resets the connection before we write. The write fails with
// EPIPE/ECONNRESET, but the refusal's alert is still readable and must be what we report.
BOOST_AUTO_TEST_CASE(a_write_after_the_servers_refusal_reports_its_alert) {
    const Pki& p = pki();
    LoopbackServer srv(server_context(true, p.revoked_bob.get()));
    auto s = tls_connect(client_context(p.bob.get()), srv.port());
    s->handshake(net::deadline_in(10s));
    const auto& out = srv.wait();  // refused, alert sent, socket closed
    BOOST_TEST((out.kind == Errc::auth_failed), out.message);
    // Our first write still leaves (the server answers it with a reset); write until one fails.
    const std::uint8_t b[8] = {};
    std::string msg;
    Errc kind = Errc::ok;
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (kind == Errc::ok && std::chrono::steady_clock::now() < until) {
        kind = kind_of([&] { s->write_all(b, net::deadline_in(10s)); }, &msg);
        if (kind == Errc::ok) std::this_thread::sleep_for(10ms);  // polling for the reset, bounded above
    }
    BOOST_TEST((kind == Errc::auth_failed), msg);
    BOOST_TEST(contains(msg, "revoked"), msg);
}

BOOST_AUTO_TEST_CASE(set_crl_applies_to_the_next_handshake) {
    const Pki& p = pki();
    auto server_ctx = server_context(true, p.empty_crl.get());
    auto client_ctx = client_context(p.bob.get());
    auto attempt = [&] {
        LoopbackServer srv(server_ctx);
        auto s = tls_connect(client_ctx, srv.port());
        kind_of([&] { s->handshake(net::deadline_in(10s)); });
        auto out = srv.wait();
        return out;
    };
    auto before = attempt();
    BOOST_TEST((before.kind == Errc::ok), before.message);
    server_ctx->set_crl(p.revoked_bob.get());
    auto revoked = attempt();
    BOOST_TEST((revoked.kind == Errc::auth_failed), revoked.message);
    BOOST_TEST(contains(revoked.message, "revoked"), revoked.message);
    // The store is replaced, not added to: the old CRL is gone again.
    server_ctx->set_crl(p.empty_crl.get());
    auto again = attempt();
    BOOST_TEST((again.kind == Errc::ok), again.message);
    // A context that verifies no clients has no CRL to replace.
    BOOST_TEST((kind_of([&] { server_context(false)->set_crl(p.empty_crl.get()); }) == Errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(context_refuses_inconsistent_options) {
    const Pki& p = pki();
    BOOST_TEST((kind_of([&] { net::TlsContext::client({p.ca_cert.get(), nullptr, nullptr, ""}); }) ==
                Errc::invalid_argument));
    BOOST_TEST((kind_of([&] { net::TlsContext::client({p.ca_cert.get(), p.client_key.get(), nullptr, "localhost"}); }) ==
                Errc::invalid_argument));
    // A key that does not match its certificate.
    BOOST_TEST((kind_of([&] {
                    net::TlsContext::server({p.client_key.get(), p.server_cert.get(), p.ca_cert.get(), false, nullptr});
                }) == Errc::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()
