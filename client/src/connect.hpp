// Shared by enrollment and the file session: a TLS channel to the server, and replies that
// become errors.
#pragma once

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <variant>

#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/net/channel.hpp"
#include "sfts/ossl.hpp"
#include "sfts/secret.hpp"

namespace sfts::client {

inline net::Deadline step_deadline(const ClientConfig& cfg) {
    return net::deadline_in(std::chrono::milliseconds(cfg.timeout_ms));
}

std::unique_ptr<net::Channel> open_channel(const ClientConfig& cfg, int port, std::shared_ptr<net::TlsContext> tls,
                                           proto::Service service);

// Runs f, which uses the client's token. A token that cannot be reached (module failing to
// initialise, as SoftHSM2 does when its store is missing; no such token) becomes Error(token)
// naming the token's URI; a wrong PIN stays auth_failed.
template <typename F>
decltype(auto) with_token(const ClientConfig& cfg, F&& f) {
    try {
        return f();
    } catch (const Error& e) {
        if (e.kind() != Errc::unavailable && e.kind() != Errc::not_found && e.kind() != Errc::token) throw;
        fail(Errc::token, "token " + cfg.token.to_string() + " unavailable (is it present?): " + e.what());
    }
}

// The client's key from its token (errors as with_token).
ossl::EvpPkeyPtr token_key(const ClientConfig& cfg, const Secret& pin);

// The server's error_reply as an Error of its kind; anything else unexpected is a protocol error.
[[noreturn]] void fail_reply(const proto::Message& m);

template <typename M>
M expect_reply(proto::Message m) {
    if (auto* p = std::get_if<M>(&m)) return std::move(*p);
    fail_reply(m);
}

}  // namespace sfts::client
