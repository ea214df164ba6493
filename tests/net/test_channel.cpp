// Channel: frames over TLS, the ends of a stream, and a peer that goes away.
#include <boost/test/unit_test.hpp>

#include <pthread.h>
#include <signal.h>

#include "net_env.hpp"
#include "sfts/net/channel.hpp"

using namespace sfts;
using namespace sfts::nettest;

namespace {

using Ms = std::chrono::milliseconds;

// Runs one Channel::receive on the server and records the message, if any.
LoopbackServer::After receive_one(std::optional<proto::Message>& got, Ms& elapsed) {
    return [&got, &elapsed](std::unique_ptr<net::TlsStream> s) {
        net::Channel ch(std::move(s), proto::Side::server, proto::Service::file);
        const auto t0 = net::Clock::now();
        try {
            got = ch.receive(net::deadline_in(10s));
        } catch (...) {
            elapsed = std::chrono::duration_cast<Ms>(net::Clock::now() - t0);
            throw;
        }
    };
}

std::unique_ptr<net::TlsStream> connected(std::uint16_t port) {
    auto c = tls_connect(client_context(nullptr), port);
    c->handshake(net::deadline_in(10s));
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(channel)

BOOST_AUTO_TEST_CASE(eof_inside_a_frame_is_an_io_error) {
    const auto hello = proto::encode_message(proto::Hello{});
    // With close_notify (a clean TLS end, but the frame is cut short) ...
    {
        std::optional<proto::Message> got;
        Ms elapsed{0};
        LoopbackServer srv(server_context(false), receive_one(got, elapsed));
        auto c = connected(srv.port());
        c->write_all(std::span(hello).first(hello.size() - 2), net::deadline_in(10s));
        c->close(net::deadline_in(1s));
        const auto& out = srv.wait();
        BOOST_TEST((out.kind == Errc::io), out.message);
        BOOST_TEST(contains(out.message, "mid-frame"), out.message);
        BOOST_TEST(!got.has_value());
    }
    // ... and without (the socket just closes: possible truncation).
    {
        std::optional<proto::Message> got;
        Ms elapsed{0};
        LoopbackServer srv(server_context(false), receive_one(got, elapsed));
        auto c = connected(srv.port());
        c->write_all(std::span(hello).first(3), net::deadline_in(10s));
        c.reset();  // no close_notify
        const auto& out = srv.wait();
        BOOST_TEST((out.kind == Errc::io), out.message);
        BOOST_TEST(contains(out.message, "closed"), out.message);
    }
}

BOOST_AUTO_TEST_CASE(oversized_length_prefix_is_refused_before_the_body) {
    std::optional<proto::Message> got;
    Ms elapsed{0};
    LoopbackServer srv(server_context(false), receive_one(got, elapsed));
    auto c = connected(srv.port());
    const std::uint32_t len = proto::max_frame_body + 1;
    const std::vector<std::uint8_t> header{static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                                           static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0x01};
    c->write_all(header, net::deadline_in(10s));  // no body follows: the receive must not wait for one
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::limit_exceeded), out.message);
    // Below the receive's 10 s deadline, which a receive waiting for the body would run into;
    // generous otherwise (a busy machine can hold the server thread for seconds).
    BOOST_TEST(elapsed.count() < 9000);
}

BOOST_AUTO_TEST_CASE(messages_split_and_coalesced_arrive_whole_and_in_order) {
    std::vector<proto::Message> got;
    LoopbackServer srv(server_context(false), [&](std::unique_ptr<net::TlsStream> s) {
        net::Channel ch(std::move(s), proto::Side::server, proto::Service::file);
        got.push_back(ch.receive(net::deadline_in(10s)));
        ch.send(proto::ServerHello{}, net::deadline_in(10s));
        got.push_back(ch.receive(net::deadline_in(10s)));  // scram_client_first
        got.push_back(ch.receive(net::deadline_in(10s)));  // out of order: never returned
    });
    auto c = connected(srv.port());
    // Three frames in one write: the first two arrive whole, the third is out of order.
    auto bytes = proto::encode_message(proto::Hello{});
    auto first = proto::encode_message(proto::ScramClientFirst{"SCRAM-SHA-256", {'n', ',', ',', 'n', '=', 'a'}});
    auto big_out_of_order = proto::encode_message(proto::UploadChunk{proto::Bytes(proto::max_chunk, 0x5a)});
    bytes.insert(bytes.end(), first.begin(), first.end());
    bytes.insert(bytes.end(), big_out_of_order.begin(), big_out_of_order.end());
    c->write_all(bytes, net::deadline_in(10s));
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::protocol), out.message);  // upload_chunk before login
    BOOST_REQUIRE(got.size() == 2u);
    BOOST_TEST(std::holds_alternative<proto::Hello>(got[0]));
    BOOST_REQUIRE(std::holds_alternative<proto::ScramClientFirst>(got[1]));
    BOOST_TEST(std::get<proto::ScramClientFirst>(got[1]).mechanism == "SCRAM-SHA-256");
}

// Read-ahead on and off (net::TlsStream::set_bulk_reads) while records are in flight and
// bytes are buffered: every byte arrives once, in order, and the stream goes on after.
BOOST_AUTO_TEST_CASE(bulk_reads_switched_mid_stream_lose_and_reorder_nothing) {
    constexpr std::size_t kTotal = 3 * 1024 * 1024 + 4321;
    auto pattern = [](std::size_t i) { return static_cast<std::uint8_t>((i * 7 + i / 65536) % 251); };
    std::size_t good = 0;
    std::size_t received = 0;
    LoopbackServer srv(server_context(false), [&](std::unique_ptr<net::TlsStream> s) {
        std::vector<std::uint8_t> buf(100 * 1000);
        bool on = false;
        while (received < kTotal) {
            // A switch every ~100 KB: often with whole records already read ahead.
            on = !on;
            s->set_bulk_reads(on);
            const std::size_t n = s->read_some(buf, net::deadline_in(10s));
            if (n == 0) break;
            for (std::size_t i = 0; i < n; ++i) good += buf[i] == pattern(received + i) ? 1 : 0;
            received += n;
        }
        s->set_bulk_reads(false);
        const std::uint8_t ack = 1;
        s->write_all({&ack, 1}, net::deadline_in(10s));
        std::uint8_t end[1];
        s->read_some(end, net::deadline_in(10s));  // the client's close_notify
    });
    auto c = connected(srv.port());
    std::vector<std::uint8_t> data(kTotal);
    for (std::size_t i = 0; i < kTotal; ++i) data[i] = pattern(i);
    for (std::size_t off = 0; off < kTotal; off += 1 << 20)
        c->write_all(std::span(data).subspan(off, std::min<std::size_t>(1 << 20, kTotal - off)), net::deadline_in(10s));
    std::uint8_t ack[1] = {0};
    BOOST_TEST(c->read_some(ack, net::deadline_in(10s)) == 1u);
    BOOST_TEST(ack[0] == 1);
    c->close(net::deadline_in(1s));
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::ok), out.message);
    BOOST_TEST(received == kTotal);
    BOOST_TEST(good == kTotal);
}

BOOST_AUTO_TEST_CASE(password_and_a_64_mib_upload_through_both_channels) {
    constexpr int kChunks = 64;  // 64 MiB of maximal chunks through TLS and the codec
    std::size_t server_bytes = 0;
    bool chunks_intact = true;
    std::string password;
    LoopbackServer srv(server_context(false), [&](std::unique_ptr<net::TlsStream> s) {
        net::Channel ch(std::move(s), proto::Side::server, proto::Service::file);
        const auto d = net::deadline_in(30s);
        ch.receive(d);
        ch.send(proto::ServerHello{proto::protocol_version, true}, d);
        auto pw = ch.receive(d);  // a secret-carrying frame: wiped after decoding
        password = std::string(std::get<proto::SetInitialPassword>(pw).password.view());
        ch.send(proto::OkReply{0, "password set"}, d);
        ch.receive(d);
        ch.send(proto::ScramServerFirst{{'r', '='}}, d);
        ch.receive(d);
        ch.send(proto::ScramServerFinal{{'v', '='}}, d);
        ch.receive(d);
        ch.send(proto::OkReply{1, "go ahead"}, d);
        for (int i = 0; i < kChunks; ++i) {
            auto m = ch.receive(d);
            const auto& data = std::get<proto::UploadChunk>(m).data;
            server_bytes += data.size();
            chunks_intact = chunks_intact && data.front() == static_cast<std::uint8_t>(i) &&
                            data.back() == static_cast<std::uint8_t>(i);
        }
        ch.send(proto::ErrorReply::make(0, Errc::io, "stop"), d);  // fatal-error rule: closes
        ch.tls().close(net::deadline_in(1s));
    });
    auto c = connected(srv.port());
    net::Channel ch(std::move(c), proto::Side::client, proto::Service::file);
    const auto d = net::deadline_in(30s);
    ch.send(proto::Hello{}, d);
    BOOST_TEST(std::get<proto::ServerHello>(ch.receive(d)).initial_password_required);
    ch.send(proto::SetInitialPassword{Secret("correct horse battery staple")}, d);
    ch.receive(d);
    ch.send(proto::ScramClientFirst{"SCRAM-SHA-256", {'n', ',', ','}}, d);
    ch.receive(d);
    ch.send(proto::ScramClientFinal{{'c', '='}}, d);
    ch.receive(d);
    proto::UploadBegin begin;
    begin.filename = "big.bin";
    begin.size = proto::max_chunk * kChunks;
    ch.send(begin, d);
    ch.receive(d);
    proto::UploadChunk chunk{proto::Bytes(proto::max_chunk)};
    const auto t0 = net::Clock::now();
    for (int i = 0; i < kChunks; ++i) {
        std::fill(chunk.data.begin(), chunk.data.end(), static_cast<std::uint8_t>(i));
        ch.send(chunk, d);
    }
    BOOST_TEST(std::holds_alternative<proto::ErrorReply>(ch.receive(d)));
    const double secs = std::chrono::duration<double>(net::Clock::now() - t0).count();
    BOOST_TEST_MESSAGE("64 MiB upload through Channel: " << (64.0 / secs) << " MiB/s");
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::ok), out.message);
    BOOST_TEST(password == "correct horse battery staple");
    BOOST_TEST(server_bytes == proto::max_chunk * kChunks);
    BOOST_TEST(chunks_intact);
    BOOST_TEST(ch.session().closed());
}

// The peer closes (FIN); our next write meets its RST while we are in CLOSE_WAIT, and Linux
// reports that as EPIPE, with SIGPIPE unless the send says MSG_NOSIGNAL. A server must
// survive any client doing this. (libPocoFoundation happens to block SIGPIPE in every thread
// at load time; the test unblocks it, so it proves our own protection, not POCO's.)
BOOST_AUTO_TEST_CASE(writing_to_a_closed_peer_is_an_io_error_not_sigpipe) {
    std::atomic<bool> gone{false};
    LoopbackServer srv(server_context(false), [&](std::unique_ptr<net::TlsStream> s) {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        pthread_sigmask(SIG_UNBLOCK, &pipe_only, nullptr);
        while (!gone) std::this_thread::sleep_for(Ms(5));
        std::this_thread::sleep_for(Ms(50));  // let the FIN arrive
        const std::vector<std::uint8_t> block(1 << 20, 0x42);
        for (int i = 0; i < 64; ++i) {
            s->write_all(block, net::deadline_in(5s));
            std::this_thread::sleep_for(Ms(20));  // let the RST arrive
        }
    });
    {
        auto c = connected(srv.port());
    }  // closed without reading: the kernel answers our data with RST
    gone = true;
    const auto& out = srv.wait();
    BOOST_TEST((out.kind == Errc::io), out.message);
}

BOOST_AUTO_TEST_SUITE_END()
