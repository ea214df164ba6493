#include "connect.hpp"

#include <Poco/Exception.h>

#include "sfts/hsm/key_provider.hpp"

namespace sfts::client {

std::unique_ptr<net::Channel> open_channel(const ClientConfig& cfg, int port, std::shared_ptr<net::TlsContext> tls,
                                           proto::Service service) {
    Poco::Net::StreamSocket socket;
    try {
        Poco::Net::SocketAddress addr(cfg.host, static_cast<Poco::UInt16>(port));
        if (!cfg.source_address.empty()) socket.impl()->bind(Poco::Net::SocketAddress(cfg.source_address, 0), false);
        socket.connect(addr, Poco::Timespan(static_cast<long>(cfg.timeout_ms) * 1000));
        socket.setNoDelay(true);
    } catch (const Poco::TimeoutException&) {
        fail(Errc::timeout, "connecting to " + cfg.host + ":" + std::to_string(port) + " timed out");
    } catch (const Poco::Exception& e) {
        fail(Errc::unavailable, "cannot connect to " + cfg.host + ":" + std::to_string(port) + ": " + e.displayText());
    }
    auto stream = std::make_unique<net::TlsStream>(std::move(tls), socket);
    stream->handshake(step_deadline(cfg));
    auto ch = std::make_unique<net::Channel>(std::move(stream), proto::Side::client, service);
    ch->send(proto::Hello{proto::protocol_version, service}, step_deadline(cfg));
    return ch;
}

ossl::EvpPkeyPtr token_key(const ClientConfig& cfg, const Secret& pin) {
    return with_token(cfg, [&] {
        return hsm::KeyProvider::for_module(cfg.module).private_key(cfg.token.with_object(cfg.key_label), pin);
    });
}

void fail_reply(const proto::Message& m) {
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) fail(e->errc(), "server: " + e->message);
    fail(Errc::protocol, "unexpected reply from the server");
}

}  // namespace sfts::client
