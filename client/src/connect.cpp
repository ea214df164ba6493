#include "connect.hpp"

#include <Poco/Exception.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "log.hpp"

#include "sfts/hsm/key_provider.hpp"

namespace sfts::client {

namespace {

std::unique_ptr<net::Channel> open_channel_once(const ClientConfig& cfg, int port, std::shared_ptr<net::TlsContext> tls,
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

}  // namespace

std::unique_ptr<net::Channel> open_channel(const ClientConfig& cfg, int port, std::shared_ptr<net::TlsContext> tls,
                                           proto::Service service) {
    // sftsd hangs up before TLS on a source it refuses (blocked, over a connection rate or cap)
    // and a full accept queue does the same: a busy server may take us a moment later, so such
    // a hang-up is retried a few times with growing, randomised pauses (many clients refused
    // together must not come back together), within connect_retry_ms. Nothing else is retried:
    // a TLS or login failure would fail the same way again.
    using namespace std::chrono;
    const auto start = steady_clock::now();
    const std::string where = cfg.host + ":" + std::to_string(port);
    std::minstd_rand rng(std::random_device{}());
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    for (int attempt = 1;; ++attempt) {
        try {
            return open_channel_once(cfg, port, tls, service);
        } catch (const net::ClosedBeforeTls& e) {
            const auto elapsed = duration_cast<milliseconds>(steady_clock::now() - start);
            const auto pause = milliseconds(static_cast<long>(500.0 * static_cast<double>(1 << std::min(attempt - 1, 10)) * jitter(rng)));
            Poco::Logger& log = client_log(cfg);
            if (attempt > cfg.connect_retries || elapsed + pause > milliseconds(cfg.connect_retry_ms)) {
                std::string tries = attempt == 1 ? "" : " (" + std::to_string(attempt) + " tries in " +
                                                             std::to_string((elapsed.count() + 500) / 1000) + " s)";
                std::string msg = where + ": the server closed the connection before TLS began" + tries +
                                  ": this address may be blocked by the server (its administrator can see that with "
                                  "'sfts-admin block list'), or the server is overloaded (connection limit reached); "
                                  "try again later";
                log.warning(msg + " [" + e.what() + "]");
                fail(Errc::io, msg);
            }
            log.warning(where + ": the server closed the connection before TLS began (try " + std::to_string(attempt) +
                        " of " + std::to_string(cfg.connect_retries + 1) + "); retrying in " +
                        std::to_string(pause.count()) + " ms");
            std::this_thread::sleep_for(pause);
        }
    }
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
