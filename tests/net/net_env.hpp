// Shared by the net tests: one PKI made once per process (a CA and the server key in a
// SoftHSM2 token, software client keys), and a loopback TLS server on a thread.
#pragma once

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "sfts/error.hpp"
#include "sfts/net/tls.hpp"
#include "sfts/ossl.hpp"
#include "softhsm_fixture.hpp"

namespace sfts::nettest {

using namespace std::chrono_literals;

struct Pki {
    test::TestToken tok;
    test::TempDir dir;
    ossl::EvpPkeyPtr ca_key, server_key;  // token keys
    ossl::X509Ptr ca_cert, server_cert;
    ossl::EvpPkeyPtr client_key;  // software RSA-3072, behind every client certificate below
    ossl::X509Ptr alice;          // valid client certificate
    ossl::X509Ptr bob;            // valid, but revoked by revoked_bob
    ossl::X509Ptr expired;        // CN=alice, expired an hour ago
    ossl::X509Ptr ca_leaf;        // CN=alice from our CA, but CA:TRUE with keyCertSign
    ossl::X509Ptr foreign;        // CN=alice from another CA
    ossl::X509CrlPtr empty_crl, revoked_bob;

    std::string file(const std::string& name) const { return dir.file(name); }  // "<name>.pem", "client.key"

    Pki();
};

// Made on first use and kept for the whole process: RSA keygen in the token is the slow part.
const Pki& pki();

std::shared_ptr<net::TlsContext> server_context(bool require_client_cert, const X509_CRL* crl = nullptr);
// A client of our CA for "localhost"; cert may be null (no client certificate).
std::shared_ptr<net::TlsContext> client_context(X509* cert, const std::string& server_name = "localhost");

using test::kind_of;  // tests/support
bool contains(const std::string& hay, const std::string& needle);

Poco::Net::StreamSocket tcp_connect(std::uint16_t port);
std::unique_ptr<net::TlsStream> tls_connect(std::shared_ptr<net::TlsContext> ctx, std::uint16_t port);

// Accepts one connection on 127.0.0.1 (port 0), runs the TLS handshake and then `after`, on
// its own thread. Assertions belong on the test thread: `after` records, wait() reports.
class LoopbackServer {
public:
    using After = std::function<void(std::unique_ptr<net::TlsStream>)>;
    explicit LoopbackServer(std::shared_ptr<net::TlsContext> ctx, After after = {},
                            std::chrono::milliseconds handshake_timeout = 10s);
    ~LoopbackServer();
    std::uint16_t port() const { return port_; }
    bool finished() const { return finished_; }

    struct Outcome {
        Errc kind = Errc::ok;  // of the first Error thrown by the handshake or by after
        std::string message;
        std::string version, cipher, peer_cn;  // after a successful handshake
    };
    const Outcome& wait();  // joins the server thread

private:
    void serve(std::shared_ptr<net::TlsContext> ctx, After after, std::chrono::milliseconds timeout);

    Poco::Net::ServerSocket listener_;
    std::uint16_t port_ = 0;
    Outcome outcome_;
    std::atomic<bool> finished_{false};
    std::thread thread_;
};

}  // namespace sfts::nettest
