// Abuse a running sftsd the way a hostile client would, one mode per invocation:
//   abuse_client flood-commands CONFIG N   N commands back to back; some must be rate-limited
//   abuse_client flood-connections CONFIG N  N TCP connections at once; some must be refused
//   abuse_client silent CONFIG MAX_MS      TCP connect, send nothing: closed before MAX_MS
//   abuse_client drip CONFIG MAX_MS        log in, start a frame, then one byte a second: cut off before MAX_MS
//   abuse_client oversize CONFIG           a 2 GiB length prefix: refused at once
//   abuse_client longname CONFIG           an upload of a 300-byte name: refused, nothing stored
#include <poll.h>
#include <sys/socket.h>

#include <thread>

#include "raw_client.hpp"

using namespace sfts;
using namespace sfts::test_client;
using Clock = std::chrono::steady_clock;

namespace {

long elapsed_ms(Clock::time_point t0) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// True once the server has closed the connection (EOF, reset, alert).
bool closed_by_server(Conn& c) {
    std::uint8_t b[4096];
    try {
        return c.ch->tls().read_some(b, net::deadline_in(std::chrono::milliseconds(50))) == 0 || true;
    } catch (const Error& e) {
        return e.kind() != Errc::timeout;
    }
}

Poco::Net::StreamSocket tcp(const Setup& s) {
    Poco::Net::StreamSocket sock;
    if (!s.cfg.source_address.empty()) sock.impl()->bind(Poco::Net::SocketAddress(s.cfg.source_address, 0), false);
    sock.connect(Poco::Net::SocketAddress(s.cfg.host, static_cast<Poco::UInt16>(s.cfg.file_port)));
    return sock;
}

// Waits for the server to close a plain TCP connection; true if it did within ms.
bool tcp_closed_within(Poco::Net::StreamSocket& sock, int ms) {
    pollfd p{sock.impl()->sockfd(), POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char c;
    return ::recv(p.fd, &c, 1, MSG_DONTWAIT) <= 0;
}

proto::Bytes raw_frame(proto::MsgType type, const proto::Bytes& body, std::uint32_t claimed_len) {
    proto::Bytes f = {static_cast<std::uint8_t>(claimed_len >> 24), static_cast<std::uint8_t>(claimed_len >> 16),
                      static_cast<std::uint8_t>(claimed_len >> 8), static_cast<std::uint8_t>(claimed_len),
                      static_cast<std::uint8_t>(type)};
    f.reserve(f.size() + body.size());
    for (std::uint8_t b : body) f.push_back(b);
    return f;
}

void put_u32(proto::Bytes& b, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_u64(proto::Bytes& b, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: abuse_client MODE CONFIG [ARG]\n";
        return 2;
    }
    std::string mode = argv[1];
    try {
        Setup s(argv[2]);
        if (mode == "flood-commands") {
            int n = argc > 3 ? std::stoi(argv[3]) : 200;
            Conn c = connect(s);
            verdict(login(c, s.user, s.password) == Errc::ok, "login");
            int limited = 0, ok = 0;
            for (int i = 0; i < n; ++i) {
                try {
                    c.ch->send(proto::ListRequest{c.header(), ""}, soon());
                    (reply_kind(c.rx()) == Errc::limit_exceeded ? limited : ok)++;
                } catch (const Error&) {
                    break;  // the server may also end the session once the source is blocked
                }
            }
            std::cout << ok << " served, " << limited << " rate-limited\n";
            verdict(limited > 0 && ok > 0, "a command flood hits the rate limit while the first commands are served");
        } else if (mode == "flood-connections") {
            int n = argc > 3 ? std::stoi(argv[3]) : 40;
            std::vector<Poco::Net::StreamSocket> socks;
            for (int i = 0; i < n; ++i) socks.push_back(tcp(s));
            int refused = 0;
            for (auto& sock : socks) refused += tcp_closed_within(sock, 300) ? 1 : 0;
            std::cout << refused << " of " << n << " connections refused\n";
            verdict(refused > 0 && refused < n, "a connection flood hits the rate limit; the first connections are taken");
        } else if (mode == "silent") {
            int max_ms = argc > 3 ? std::stoi(argv[3]) : 5000;
            auto sock = tcp(s);
            auto t0 = Clock::now();
            bool closed = tcp_closed_within(sock, max_ms);
            std::cout << "closed after " << elapsed_ms(t0) << " ms\n";
            verdict(closed, "a silent client is dropped at the handshake deadline");
        } else if (mode == "drip") {
            int max_ms = argc > 3 ? std::stoi(argv[3]) : 5000;
            Conn c = connect(s);
            verdict(login(c, s.user, s.password) == Errc::ok, "login");
            proto::Bytes body(40, 0);
            auto frame = raw_frame(proto::MsgType::list_request, body, static_cast<std::uint32_t>(body.size()));
            auto t0 = Clock::now();
            bool cut = false;
            for (std::size_t i = 0; i < frame.size() && elapsed_ms(t0) < max_ms + 5000; ++i) {
                try {
                    c.ch->tls().write_all(proto::ByteView(&frame[i], 1), soon());
                } catch (const Error&) {
                    cut = true;
                    break;
                }
                auto until = Clock::now() + std::chrono::seconds(1);
                while (Clock::now() < until && !cut) cut = closed_by_server(c);
                if (cut) break;
            }
            long ms = elapsed_ms(t0);
            std::cout << "cut off after " << ms << " ms\n";
            verdict(cut && ms <= max_ms, "a client dripping one byte a second is cut off at the frame deadline");
        } else if (mode == "oversize") {
            Conn c = connect(s);
            verdict(login(c, s.user, s.password) == Errc::ok, "login");
            // A generous bound (a busy machine); abuse_test checks in the server log that the
            // length, not the frame deadline, ended the session.
            int max_ms = argc > 3 ? std::stoi(argv[3]) : 30000;
            auto t0 = Clock::now();
            c.ch->tls().write_all(raw_frame(proto::MsgType::upload_chunk, {}, 0x7fffffffu), soon());
            bool cut = false;
            while (!cut && elapsed_ms(t0) < max_ms) cut = closed_by_server(c);
            std::cout << "closed after " << elapsed_ms(t0) << " ms\n";
            verdict(cut, "a 2 GiB length prefix ends the session");
        } else if (mode == "longname") {
            Conn c = connect(s);
            verdict(login(c, s.user, s.password) == Errc::ok, "login");
            auto h = c.header();
            proto::Bytes body;
            put_u64(body, h.request_id);
            put_u64(body, static_cast<std::uint64_t>(h.timestamp_ms));
            body.insert(body.end(), h.nonce.begin(), h.nonce.end());
            std::string name(300, 'n');
            put_u32(body, static_cast<std::uint32_t>(name.size()));
            body.insert(body.end(), name.begin(), name.end());
            put_u64(body, 10);
            body.push_back(0);
            c.ch->tls().write_all(raw_frame(proto::MsgType::upload_begin, body, static_cast<std::uint32_t>(body.size())), soon());
            bool refused = false;
            try {
                std::uint8_t b[4096];
                c.ch->tls().read_some(b, soon());  // an error reply, then the end
                refused = true;
            } catch (const Error& e) {
                refused = e.kind() == Errc::io || e.kind() == Errc::auth_failed;
            }
            verdict(refused, "an upload with a 300-byte name is refused");
            Conn d = connect(s);
            verdict(login(d, s.user, s.password) == Errc::ok, "login again");
            d.ch->send(proto::ListRequest{d.header(), ""}, soon());
            auto page = std::get<proto::ListPage>(d.rx());
            bool stored = false;
            for (const auto& e : page.entries) stored = stored || e.name.size() > 255;
            verdict(!stored, "nothing stored under the long name");
        } else {
            std::cerr << "unknown mode " << mode << "\n";
            return 2;
        }
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << "\n";
        return 1;
    }
    return failures ? 1 : 0;
}
