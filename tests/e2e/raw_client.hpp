// A client that speaks the protocol directly, for tests that must send what the real client
// never would. Shared by attack_client and abuse_client.
#pragma once

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <iostream>
#include <variant>

#include "sfts/auth/hmac.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/net/channel.hpp"
#include "sfts/pki/pss.hpp"
#include "sfts/protocol/records.hpp"

namespace sfts::test_client {

inline int failures = 0;
inline void verdict(bool ok, const std::string& what) {
    std::cout << (ok ? "ok:   " : "FAIL: ") << what << std::endl;
    if (!ok) ++failures;
}

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline net::Deadline soon() { return net::deadline_in(std::chrono::seconds(20)); }

struct Conn {
    std::unique_ptr<net::Channel> ch;
    std::uint64_t id = 1;
    proto::CommandHeader header(std::int64_t ts = now_ms()) {
        proto::CommandHeader h;
        h.request_id = id++;
        h.timestamp_ms = ts;
        auto n = auth::random_bytes(16);
        std::copy(n.begin(), n.end(), h.nonce.begin());
        return h;
    }
    proto::Message rx() { return ch->receive(soon()); }
};

struct Setup {
    client::ClientConfig cfg;
    Secret pin;
    Secret password;
    ossl::EvpPkeyPtr key;
    ossl::X509Ptr cert, ca;
    std::string user;

    explicit Setup(const std::string& config_path) {
        cfg = client::load_client_config(config_path);
        pin = hsm::read_secret(cfg.pin, "");
        password = hsm::read_secret(cfg.password, "");
        cert = ossl::x509_from_pem(read_file(cfg.cert_path()));
        ca = ossl::x509_from_pem(read_file(cfg.ca_path()));
        key = hsm::KeyProvider::for_module(cfg.module).private_key(cfg.token.with_object(cfg.key_label), pin);
        user = ossl::common_name(X509_get_subject_name(cert.get()));
    }
};

inline Conn connect(const Setup& s) {
    Poco::Net::StreamSocket sock;
    if (!s.cfg.source_address.empty()) sock.impl()->bind(Poco::Net::SocketAddress(s.cfg.source_address, 0), false);
    sock.connect(Poco::Net::SocketAddress(s.cfg.host, static_cast<Poco::UInt16>(s.cfg.file_port)));
    net::ClientTlsOptions o{s.ca.get(), s.key.get(), s.cert.get(), s.cfg.host};
    auto stream = std::make_unique<net::TlsStream>(net::TlsContext::client(o), sock);
    stream->handshake(soon());
    Conn c;
    c.ch = std::make_unique<net::Channel>(std::move(stream), proto::Side::client, proto::Service::file);
    c.ch->send(proto::Hello{proto::protocol_version, proto::Service::file}, soon());
    std::get<proto::ServerHello>(c.rx());
    return c;
}

// Returns the error the server answered with, or ok.
inline Errc login(Conn& c, const std::string& user, const Secret& password) {
    auth::ScramClient scram(user, password, c.ch->tls().channel_binding());
    c.ch->send(proto::ScramClientFirst{scram.mechanism(), scram.client_first()}, soon());
    auto m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    c.ch->send(proto::ScramClientFinal{scram.client_final(std::get<proto::ScramServerFirst>(m).sasl)}, soon());
    m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    scram.verify_server_final(std::get<proto::ScramServerFinal>(m).sasl);
    return Errc::ok;
}

inline Errc reply_kind(const proto::Message& m) {
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    return Errc::ok;
}

}  // namespace sfts::test_client
