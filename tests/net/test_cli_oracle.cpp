// The openssl CLI as an independent oracle (docs/conventions.md §10): what our server accepts and
// refuses, seen from a client we did not write, and what our server says about it.
#include <boost/test/unit_test.hpp>

#include "net_env.hpp"

using namespace sfts;
using namespace sfts::nettest;

namespace {

struct CliRun {
    LoopbackServer::Outcome server;
    test::CommandResult cli;
};

// One s_client connection against a server of ctx. -ign_eof keeps s_client reading after its
// stdin ends, so it reports the alert a TLS 1.3 server sends after the client's Finished.
CliRun s_client(std::shared_ptr<net::TlsContext> ctx, const std::string& args) {
    LoopbackServer srv(std::move(ctx));
    auto cli = test::run("timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(srv.port()) +
                         " -servername localhost -ign_eof " + args + " </dev/null");
    return {srv.wait(), cli};
}

std::string cert_args(const std::string& cert) {
    const Pki& p = pki();
    return "-CAfile " + p.file("ca.pem") + " -cert " + p.file(cert + ".pem") + " -key " + p.file("client.key");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_oracle)

BOOST_AUTO_TEST_CASE(valid_client_is_accepted_verified_and_uncompressed) {
    const Pki& p = pki();
    const std::pair<std::string, std::string> versions[] = {{"-tls1_3", "New, TLSv1.3, Cipher is TLS_AES_"},
                                                             {"-tls1_2 -comp", "New, TLSv1.2, Cipher is ECDHE-RSA-AES"}};
    for (const auto& [version, negotiated] : versions) {
        auto r = s_client(server_context(true, p.revoked_bob.get()),
                          version + " " + cert_args("alice") + " -verify_return_error -verify_hostname localhost");
        BOOST_TEST((r.server.kind == Errc::ok), version << ": " << r.server.message);
        BOOST_TEST(r.server.peer_cn == "alice");
        BOOST_TEST(contains(r.cli.output, "Verify return code: 0 (ok)"), r.cli.output);
        BOOST_TEST(contains(r.cli.output, negotiated), r.cli.output);
        BOOST_TEST(contains(r.cli.output, "GCM"), r.cli.output);
        // -comp offers compression in TLS 1.2; CRIME says no, and so does the server.
        BOOST_TEST(contains(r.cli.output, "Compression: NONE"), r.cli.output);
    }
    // 8444: the server asks for no certificate at all.
    auto r = s_client(server_context(false), "-CAfile " + p.file("ca.pem") + " -verify_return_error");
    BOOST_TEST((r.server.kind == Errc::ok), r.server.message);
    BOOST_TEST(contains(r.cli.output, "No client certificate CA names sent"), r.cli.output);
    BOOST_TEST(contains(r.cli.output, "Verify return code: 0 (ok)"), r.cli.output);
}

BOOST_AUTO_TEST_CASE(client_certificate_problems_are_auth_failures) {
    const Pki& p = pki();
    struct Case {
        std::string args;
        std::string server_says;  // in our server's error
        std::string cli_says;     // in s_client's output (the alert our server sent)
    };
    const Case cases[] = {
        {"-CAfile " + p.file("ca.pem"), "peer did not return a certificate", "certificate required"},
        {cert_args("foreign"), "unable to get local issuer certificate", "unknown ca"},
        {cert_args("expired"), "certificate has expired", "certificate expired"},
        {cert_args("bob"), "certificate revoked", "certificate revoked"},
        // A client certificate with CA markings, even from our CA (RFC 5280 4.2.1.9).
        {cert_args("ca_leaf"), "invalid non-CA certificate", "alert"},
    };
    for (const auto& c : cases) {
        auto r = s_client(server_context(true, p.revoked_bob.get()), c.args);
        BOOST_TEST((r.server.kind == Errc::auth_failed), c.args << ": " << r.server.message);
        BOOST_TEST(contains(r.server.message, c.server_says), r.server.message);
        BOOST_TEST(contains(r.cli.output, c.cli_says), c.args << ":\n" << r.cli.output);
    }
}

BOOST_AUTO_TEST_CASE(old_versions_and_weak_or_unlisted_ciphers_are_protocol_errors) {
    const Pki& p = pki();
    const std::string alice = cert_args("alice");
    struct Offer {
        std::string args;
        std::string server_says, cli_says;
    };
    const Offer offers[] = {
        // Below the TLS 1.2 floor (SECLEVEL=0 so that s_client really offers TLS 1.1).
        {"-tls1_1 -cipher DEFAULT@SECLEVEL=0", "unsupported protocol", "alert protocol version"},
        {"-tls1_2 -cipher ECDHE-RSA-AES128-SHA256", "no shared cipher", "alert handshake failure"},  // CBC
        {"-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305", "no shared cipher", "alert handshake failure"},
        {"-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256", "no shared cipher", "alert handshake failure"},
    };
    for (const auto& o : offers) {
        auto r = s_client(server_context(true, p.empty_crl.get()), o.args + " " + alice);
        BOOST_TEST((r.server.kind == Errc::protocol), o.args << ": " << r.server.message);
        BOOST_TEST(contains(r.server.message, o.server_says), r.server.message);
        BOOST_TEST(contains(r.cli.output, o.cli_says), o.args << ":\n" << r.cli.output);
        BOOST_TEST(contains(r.cli.output, "Cipher is (NONE)"), o.args << ":\n" << r.cli.output);
    }
}

BOOST_AUTO_TEST_SUITE_END()
