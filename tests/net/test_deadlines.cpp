// Every blocking call ends at its deadline, whatever the peer does (or does not do).
// Lower bounds are strict (a deadline never fires early: each is measured from a point before
// the deadline started); upper bounds only say that the call ended, and are generous, so that
// a busy machine (load 8+, threads descheduled for seconds) does not fail them.
#include <boost/test/unit_test.hpp>

#include "net_env.hpp"
#include "sfts/net/channel.hpp"

using namespace sfts;
using namespace sfts::nettest;

namespace {

using Ms = std::chrono::milliseconds;

Ms since(net::Clock::time_point t0) { return std::chrono::duration_cast<Ms>(net::Clock::now() - t0); }

// A frame header announcing a body of `body` bytes of a hello.
std::vector<std::uint8_t> header(std::uint32_t body) {
    return {static_cast<std::uint8_t>(body >> 24), static_cast<std::uint8_t>(body >> 16),
            static_cast<std::uint8_t>(body >> 8), static_cast<std::uint8_t>(body), 0x01};
}

// The server side of the stalled-peer tests: one Channel::receive with the given deadline,
// timed.
LoopbackServer::After timed_receive(Ms deadline, Ms& elapsed) {
    return [deadline, &elapsed](std::unique_ptr<net::TlsStream> s) {
        net::Channel ch(std::move(s), proto::Side::server, proto::Service::file);
        const auto t0 = net::Clock::now();
        try {
            ch.receive(net::deadline_in(deadline));
        } catch (...) {
            elapsed = since(t0);
            throw;
        }
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadlines)

BOOST_AUTO_TEST_CASE(silent_tcp_client_times_out_the_handshake) {
    LoopbackServer srv(server_context(true, pki().empty_crl.get()), {}, Ms(300));
    const auto t0 = net::Clock::now();  // before the connection: the server's deadline starts later
    auto raw = tcp_connect(srv.port());  // connects, never says hello
    const auto& out = srv.wait();
    const auto elapsed = since(t0);
    BOOST_TEST((out.kind == Errc::timeout), out.message);
    BOOST_TEST(contains(out.message, "handshake"), out.message);
    BOOST_TEST(elapsed.count() >= 300);
    BOOST_TEST(elapsed.count() < 30000);
}

BOOST_AUTO_TEST_CASE(peer_stalling_after_a_frame_header_times_out_receive) {
    Ms elapsed{0};
    LoopbackServer srv(server_context(false), timed_receive(Ms(300), elapsed));
    auto c = tls_connect(client_context(nullptr), srv.port());
    c->handshake(net::deadline_in(10s));
    c->write_all(header(10), net::deadline_in(10s));  // and then nothing
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::timeout), out.message);
    BOOST_TEST(elapsed.count() >= 300);
    BOOST_TEST(elapsed.count() < 30000);
}

BOOST_AUTO_TEST_CASE(peer_dripping_bytes_is_cut_off_at_the_overall_deadline) {
    Ms elapsed{0};
    LoopbackServer srv(server_context(false), timed_receive(Ms(500), elapsed));
    auto c = tls_connect(client_context(nullptr), srv.port());
    c->handshake(net::deadline_in(10s));
    // 5 + 40 bytes at one byte per 100 ms would take 4.5 s; each byte is its own TLS record,
    // so every read the server makes succeeds well inside a per-read timeout. The drip goes on
    // until the server gives up: had it only a per-read timeout, it would receive the whole
    // frame and end without error, so the timeout itself proves the overall deadline.
    auto frame = header(40);
    frame.resize(45, 0x00);
    std::size_t sent = 0;
    for (; sent < frame.size() && !srv.finished(); ++sent) {
        if (kind_of([&] { c->write_all(std::span(frame).subspan(sent, 1), net::deadline_in(10s)); }) != Errc::ok) break;
        std::this_thread::sleep_for(Ms(100));
    }
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::timeout), out.message);
    BOOST_TEST(elapsed.count() >= 500);
    BOOST_TEST(elapsed.count() < 30000);
    BOOST_TEST_MESSAGE("server gave up after " << elapsed.count() << " ms, " << sent << " of 45 bytes sent");
}

BOOST_AUTO_TEST_CASE(client_handshake_against_a_silent_server_times_out) {
    Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));  // accepts in the backlog only
    auto c = tls_connect(client_context(nullptr), listener.address().port());
    const auto t0 = net::Clock::now();
    std::string msg;
    BOOST_TEST((kind_of([&] { c->handshake(net::deadline_in(Ms(300))); }, &msg) == Errc::timeout), msg);
    BOOST_TEST(since(t0).count() >= 300);
    BOOST_TEST(since(t0).count() < 30000);
}

BOOST_AUTO_TEST_SUITE_END()
