// Many hostile connections at once against a running sftsd, while a logged-in client transfers
// a file, and the server's threads and memory are watched from /proc.
//
//   flood_client flood CONFIG SERVER_PID CONNECTIONS SOURCES SECONDS MAX_THREADS MAX_RSS_GROWTH_MIB
//       CONNECTIONS TCP connections to the file port (and a tenth of that to the enrollment
//       port) from 127.0.0.2 .. 127.0.0.(1+SOURCES): a third silent, a third sending a whole
//       ClientHello then nothing (half-open handshakes), a third sending the ClientHello one
//       byte every 2 s (slowloris); plus 16 connections from CONFIG's address that complete
//       mutual TLS and then send their first frame one byte every 2 s. For SECONDS. The server
//       must close every one of them by itself, keep Threads <= MAX_THREADS and VmRSS within
//       MAX_RSS_GROWTH_MIB of where it started, and the logged-in client's upload and download
//       during the flood must round-trip with the same SHA-256.
//   flood_client oversize CONFIG
//       length prefixes of 2^31, 2^32-1 and max_frame_body+1 before login, after login and on
//       the enrollment port, and fields just over their limits: each refused within 5 s.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "raw_client.hpp"
#include "sfts/protocol/limits.hpp"

using namespace sfts;
using namespace sfts::test_client;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The bytes of a real ClientHello, made by OpenSSL against memory BIOs.
std::vector<std::uint8_t> client_hello() {
    std::unique_ptr<SSL_CTX, ossl::Deleter<SSL_CTX_free>> ctx(SSL_CTX_new(TLS_client_method()));
    std::unique_ptr<SSL, ossl::Deleter<SSL_free>> ssl(SSL_new(ctx.get()));
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl.get(), in, out);  // ssl owns both
    SSL_connect(ssl.get());           // WANT_READ after writing the ClientHello
    std::vector<std::uint8_t> hello(static_cast<std::size_t>(BIO_pending(out)));
    BIO_read(out, hello.data(), static_cast<int>(hello.size()));
    if (hello.size() < 50) throw Error(Errc::internal, "no ClientHello");
    return hello;
}

struct ProcStatus {
    long threads = 0;
    long rss_kib = 0;
    long sockets = 0;  // file descriptors that are sockets (listeners and connections)
};
ProcStatus proc_status(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    ProcStatus s;
    std::string key;
    while (f >> key) {
        if (key == "Threads:") f >> s.threads;
        else if (key == "VmRSS:") f >> s.rss_kib;
        std::getline(f, key);
    }
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        auto target = std::filesystem::read_symlink(e.path(), ec);
        if (!ec && target.string().starts_with("socket:")) ++s.sockets;
    }
    return s;
}

enum class Kind { silent, half_open, drip };

struct Attacker {
    int fd = -1;
    Kind kind{};
    std::size_t sent = 0;
    Clock::time_point opened, next_byte;
    bool connected = false;
    bool closed = false;   // by the server
    bool enroll = false;   // on the enrollment port
    std::size_t received = 0;
    double lifetime = 0;   // seconds until the server closed it
};

int tcp_nonblocking(const std::string& source, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Error(Errc::io, "socket");
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) throw Error(Errc::io, "bind " + source);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst);  // EINPROGRESS
    return fd;
}

// The first frame a file-service client sends (hello), to drip after a real handshake.
proto::Bytes hello_frame() { return proto::encode_message(proto::Hello{proto::protocol_version, proto::Service::file}); }

// A connection with mutual TLS done and nothing sent yet.
std::unique_ptr<net::TlsStream> mtls(const Setup& s) {
    Poco::Net::StreamSocket sock;
    sock.connect(Poco::Net::SocketAddress(s.cfg.host, static_cast<Poco::UInt16>(s.cfg.file_port)));
    net::ClientTlsOptions o{s.ca.get(), s.key.get(), s.cert.get(), s.cfg.host};
    auto stream = std::make_unique<net::TlsStream>(net::TlsContext::client(o), sock);
    stream->handshake(soon());
    return stream;
}

// True once the server has ended the stream (EOF, alert, reset); false on a quiet timeout.
bool ended(net::TlsStream& t, int ms) {
    std::uint8_t b[4096];
    try {
        for (;;) {
            if (t.read_some(b, net::deadline_in(std::chrono::milliseconds(ms))) == 0) return true;
        }
    } catch (const Error& e) {
        return e.kind() != Errc::timeout;
    }
}

int flood(Setup& s, int server_pid, int connections, int sources, int seconds, long max_threads, long max_growth_mib) {
    const auto hello = client_hello();
    const auto start_status = proc_status(server_pid);
    std::cout << "server before: " << start_status.threads << " threads, " << start_status.rss_kib / 1024 << " MiB RSS, "
              << start_status.sockets << " sockets" << std::endl;

    // The victim: logged in before the flood, transfers during it.
    Conn victim = connect(s);
    verdict(login(victim, s.user, s.password) == Errc::ok, "the victim logs in before the flood");

    // mTLS connections that will drip their first frame.
    std::vector<std::unique_ptr<net::TlsStream>> frame_drips;
    for (int i = 0; i < 16; ++i) frame_drips.push_back(mtls(s));
    const auto frame = hello_frame();

    std::vector<Attacker> att;
    att.reserve(static_cast<std::size_t>(connections + connections / 10));
    const auto t0 = Clock::now();
    for (int i = 0; i < connections + connections / 10; ++i) {
        Attacker a;
        const std::string src = "127.0.0." + std::to_string(2 + i % sources);
        a.fd = tcp_nonblocking(src, i < connections ? s.cfg.file_port : s.cfg.enroll_port);
        a.kind = static_cast<Kind>(i % 3);
        a.enroll = i >= connections;
        a.opened = a.next_byte = Clock::now();
        att.push_back(a);
    }
    std::cout << att.size() << " hostile connections opened in " << seconds_since(t0) << " s" << std::endl;

    std::atomic<bool> stop{false};
    ProcStatus peak = start_status;
    std::thread attack([&] {
        std::vector<pollfd> pfds(att.size());
        auto last_sample = Clock::now() - std::chrono::seconds(1);
        std::size_t frame_pos = 0;
        auto next_frame_byte = Clock::now();
        const auto end = t0 + std::chrono::seconds(seconds);
        // After the attack phase, keep watching (sending nothing) until the server closed all.
        const auto give_up = end + std::chrono::seconds(30);
        while (Clock::now() < give_up) {
            auto now = Clock::now();
            if (now - last_sample >= std::chrono::milliseconds(100)) {
                auto st = proc_status(server_pid);
                peak.threads = std::max(peak.threads, st.threads);
                peak.rss_kib = std::max(peak.rss_kib, st.rss_kib);
                peak.sockets = std::max(peak.sockets, st.sockets);
                last_sample = now;
            }
            const bool attacking = now < end && !stop;
            std::size_t open = 0;
            for (std::size_t i = 0; i < att.size(); ++i) {
                auto& a = att[i];
                pfds[i] = {a.closed ? -1 : a.fd, static_cast<short>(POLLIN | (a.connected ? 0 : POLLOUT)), 0};
                if (a.closed) continue;
                ++open;
                if (!a.connected || !attacking) continue;
                if (a.kind == Kind::half_open && a.sent == 0) {
                    ssize_t n = ::send(a.fd, hello.data(), hello.size(), MSG_NOSIGNAL);
                    if (n > 0) a.sent = static_cast<std::size_t>(n);
                } else if (a.kind == Kind::drip && a.sent < hello.size() && now >= a.next_byte) {
                    if (::send(a.fd, &hello[a.sent], 1, MSG_NOSIGNAL) == 1) ++a.sent;
                    a.next_byte = now + std::chrono::seconds(2);
                }
            }
            if (attacking && frame_pos < frame.size() && now >= next_frame_byte) {
                for (auto& t : frame_drips) {
                    try {
                        if (t) t->write_all(proto::ByteView(&frame[frame_pos], 1), soon());
                    } catch (const Error&) {
                        t.reset();  // cut by the server: what we want
                    }
                }
                ++frame_pos;
                next_frame_byte = now + std::chrono::seconds(2);
            }
            if (open == 0 && !attacking) break;
            ::poll(pfds.data(), pfds.size(), 100);
            for (std::size_t i = 0; i < att.size(); ++i) {
                auto& a = att[i];
                if (a.closed || pfds[i].revents == 0) continue;
                if (!a.connected && (pfds[i].revents & POLLOUT)) {
                    int err = 0;
                    socklen_t len = sizeof err;
                    ::getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                    if (err == 0) a.connected = true;
                }
                if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                    char buf[4096];
                    ssize_t n = ::recv(a.fd, buf, sizeof buf, MSG_DONTWAIT);
                    if (n > 0) a.received += static_cast<std::size_t>(n);
                    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                        a.closed = true;
                        a.lifetime = seconds_since(a.opened);
                    }
                }
            }
        }
    });

    // The victim's transfer, during the flood: upload, then download, then compare.
    const std::size_t size = 32u << 20;
    proto::Bytes data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    const auto sha = ossl::sha256(data.data(), data.size());
    std::this_thread::sleep_for(std::chrono::seconds(3));  // let the flood build up
    auto tx = Clock::now();
    bool transfer_ok = false;
    try {
        proto::UploadBegin b{victim.header(), "during-the-flood.bin", size, true};
        victim.ch->send(b, soon());
        std::get<proto::OkReply>(victim.rx());
        for (std::size_t off = 0; off < size; off += proto::max_chunk)
            victim.ch->send(proto::UploadChunk{proto::Bytes(data.begin() + static_cast<long>(off),
                                                            data.begin() + static_cast<long>(std::min(size, off + proto::max_chunk)))},
                            soon());
        proto::UploadEnd end;
        std::copy(sha.begin(), sha.end(), end.sha256.begin());
        end.signature = pki::pss_sign(s.key.get(), proto::upload_record(s.user, b, end.sha256));
        victim.ch->send(end, soon());
        std::get<proto::UploadReceipt>(victim.rx());
        victim.ch->send(proto::DownloadRequest{victim.header(), "during-the-flood.bin"}, soon());
        std::get<proto::DownloadHeader>(victim.rx());
        ossl::EvpMdCtxPtr md(EVP_MD_CTX_new());
        EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
        std::size_t got = 0;
        for (;;) {
            auto m = victim.rx();
            if (auto* c = std::get_if<proto::DownloadChunk>(&m)) {
                EVP_DigestUpdate(md.get(), c->data.data(), c->data.size());
                got += c->data.size();
                continue;
            }
            std::get<proto::DownloadEnd>(m);
            break;
        }
        proto::Sha256 back{};
        unsigned n = 0;
        EVP_DigestFinal_ex(md.get(), back.data(), &n);
        transfer_ok = got == size && std::equal(back.begin(), back.end(), sha.begin());
        victim.ch->send(proto::DeleteRequest{victim.header(), "during-the-flood.bin"}, soon());
        victim.rx();
    } catch (const std::exception& e) {
        std::cout << "victim: " << e.what() << std::endl;
    }
    std::cout << "victim: 32 MiB up and down during the flood in " << seconds_since(tx) << " s" << std::endl;
    verdict(transfer_ok, "the logged-in client's upload and download during the flood round-trip with the same SHA-256");

    // A new client during the flood: served (it may wait behind the attackers' deadlines).
    auto tn = Clock::now();
    bool fresh_ok = false;
    try {
        Conn fresh = connect(s);
        fresh_ok = login(fresh, s.user, s.password) == Errc::ok;
    } catch (const std::exception& e) {
        std::cout << "new client: " << e.what() << std::endl;
    }
    double fresh_s = seconds_since(tn);
    std::cout << "a new client during the flood connected and logged in after " << fresh_s << " s" << std::endl;
    verdict(fresh_ok, "a new client during the flood is served");

    attack.join();
    // What the server itself still holds, before anything below makes it accept more.
    auto end_status = proc_status(server_pid);
    // A connection still open here on the client's side may be one the server's kernel never
    // kept (SYN queue overflow: a SYN cookie completed it, the full accept queue dropped the
    // ACK, and a client that sends nothing never learns). Speak to each: the server's kernel
    // resets it or completes it from the cookie, and sftsd then refuses the garbage at once.
    const std::string garbage = "GET / HTTP/1.0\r\n\r\n";
    int probed = 0;
    for (auto& a : att)
        if (!a.closed) ++probed, ::send(a.fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
    int held = probed;
    for (auto tp = Clock::now(); held > 0 && seconds_since(tp) < 20; std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
        held = 0;
        for (auto& a : att) {
            if (a.closed) continue;
            char buf[256];
            ssize_t n = ::recv(a.fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) a.closed = true, a.lifetime = seconds_since(a.opened);
            else ++held;
        }
    }
    std::cout << probed << " connections open only on the client's side at the end were spoken to; " << held
              << " are still open after that" << std::endl;
    int refused_at_once = 0, cut_later = 0, still_open = 0, never_connected = 0;
    double longest = 0;
    for (auto& a : att) {
        if (!a.connected && !a.closed) ++never_connected;
        if (!a.closed) {
            ++still_open;
            continue;
        }
        (a.lifetime < 1.0 ? refused_at_once : cut_later)++;
        longest = std::max(longest, a.lifetime);
        ::close(a.fd);
    }
    for (auto& a : att)
        if (!a.closed) ::close(a.fd);
    int frames_cut = 0;
    for (auto& t : frame_drips) frames_cut += (!t || ended(*t, 2000)) ? 1 : 0;
    std::cout << "hostile connections: " << att.size() << "; closed by the server within 1 s: " << refused_at_once
              << "; later: " << cut_later << " (longest held " << longest << " s); never accepted by the kernel: "
              << never_connected << "; still open: " << still_open << std::endl;
    std::cout << "server peak: " << peak.threads << " threads, " << peak.rss_kib / 1024 << " MiB RSS, " << peak.sockets
              << " sockets; after: " << end_status.threads << " threads, " << end_status.rss_kib / 1024 << " MiB RSS, "
              << end_status.sockets << " sockets (before: " << start_status.sockets << ")" << std::endl;
    // The victim's connection and the fresh client's are closed by now as well.
    verdict(end_status.sockets <= start_status.sockets + 1,
            "the server holds no hostile connection after the flood (" + std::to_string(end_status.sockets) + " sockets)");
    static const char* kinds[] = {"silent", "half-open", "slowloris"};
    for (int port = 0; port < 2; ++port)
        for (int k = 0; k < 3; ++k) {
            int n = 0, open = 0, answered = 0;
            double lo = 1e9, hi = 0;
            for (auto& a : att) {
                if (a.enroll != (port == 1) || static_cast<int>(a.kind) != k) continue;
                ++n;
                open += a.closed ? 0 : 1;
                answered += a.received > 0 ? 1 : 0;
                if (a.closed) lo = std::min(lo, a.lifetime), hi = std::max(hi, a.lifetime);
            }
            std::cout << "  " << (port ? "enrollment " : "file       ") << kinds[k] << ": " << n << ", still open " << open
                      << ", got server bytes " << answered << ", closed after " << lo << " .. " << hi << " s" << std::endl;
        }
    verdict(still_open == 0, "no hostile connection is left open (the server closed them, or reset them once spoken to)");
    verdict(frames_cut == 16, "every mTLS client dripping its first frame was cut (" + std::to_string(frames_cut) + "/16)");
    verdict(peak.threads <= max_threads,
            "threads stayed bounded (peak " + std::to_string(peak.threads) + " <= " + std::to_string(max_threads) + ")");
    verdict(peak.rss_kib - start_status.rss_kib <= max_growth_mib * 1024,
            "memory stayed bounded (peak growth " + std::to_string((peak.rss_kib - start_status.rss_kib) / 1024) +
                " MiB <= " + std::to_string(max_growth_mib) + " MiB)");
    return 0;
}

// ---------------------------------------------------------------------------------------------

proto::Bytes header5(std::uint32_t len, proto::MsgType type) {
    return {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16), static_cast<std::uint8_t>(len >> 8),
            static_cast<std::uint8_t>(len), static_cast<std::uint8_t>(type)};
}

// Sends bytes on t, then the server must answer error_reply(expected) or end the connection
// within 5 s. Returns a verdict text.
void expect_refusal(net::TlsStream& t, const proto::Bytes& bytes, const std::string& what, Errc expected) {
    auto t0 = Clock::now();
    bool write_cut = false;
    try {
        t.write_all(bytes, soon());
    } catch (const Error&) {
        write_cut = true;
    }
    proto::FrameDecoder dec;
    std::optional<Errc> said;
    bool closed = write_cut;
    std::uint8_t buf[4096];
    try {
        while (!closed && seconds_since(t0) < 5) {
            std::size_t n = t.read_some(buf, net::deadline_in(std::chrono::milliseconds(5000)));
            if (n == 0) break;
            proto::feed_all(dec, proto::ByteView(buf, n), [&](proto::Frame&& f) {
                if (f.type == proto::MsgType::error_reply) said = proto::ErrorReply::decode(f.body).errc();
            });
        }
        closed = true;
    } catch (const Error& e) {
        closed = e.kind() != Errc::timeout;
    }
    double took = seconds_since(t0);
    bool ok = closed && took < 5 && (!said || *said == expected);
    verdict(ok, what + ": " + (said ? "error_reply(" + std::string(errc_name(*said)) + ")" : std::string("no reply")) +
                    (closed ? ", closed" : ", NOT closed") + " after " + std::to_string(static_cast<int>(took * 1000)) + " ms");
}

int oversize(Setup& s) {
    const std::uint32_t lengths[] = {0x80000000u, 0xFFFFFFFFu, static_cast<std::uint32_t>(proto::max_frame_body + 1)};
    for (std::uint32_t len : lengths) {
        const std::string l = "length prefix " + std::to_string(len);
        {
            auto t = mtls(s);
            expect_refusal(*t, header5(len, proto::MsgType::hello), l + " as the first frame (hello)", Errc::limit_exceeded);
        }
        {
            Conn c = connect(s);
            expect_refusal(c.ch->tls(), header5(len, proto::MsgType::scram_client_first), l + " as scram_client_first",
                           Errc::limit_exceeded);
        }
        {
            Conn c = connect(s);
            if (login(c, s.user, s.password) != Errc::ok) throw Error(Errc::auth_failed, "login");
            expect_refusal(c.ch->tls(), header5(len, proto::MsgType::upload_chunk), l + " as upload_chunk after login",
                           Errc::limit_exceeded);
        }
        {
            Poco::Net::StreamSocket sock;
            sock.connect(Poco::Net::SocketAddress(s.cfg.host, static_cast<Poco::UInt16>(s.cfg.enroll_port)));
            net::ClientTlsOptions o{};
            net::TlsStream t(net::TlsContext::client(o), sock);
            t.handshake(soon());
            expect_refusal(t, header5(len, proto::MsgType::hello), l + " on the enrollment port", Errc::limit_exceeded);
        }
    }
    // Fields just over their own limits, inside frames that are within the frame limit.
    {
        Conn c = connect(s);
        proto::Bytes body;
        std::string mech = "SCRAM-SHA-256";
        for (int i = 3; i >= 0; --i) body.push_back(static_cast<std::uint8_t>(mech.size() >> (8 * i)));
        body.insert(body.end(), mech.begin(), mech.end());
        std::uint32_t n = static_cast<std::uint32_t>(proto::max_sasl_bytes + 1);
        for (int i = 3; i >= 0; --i) body.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
        body.insert(body.end(), n, 'n');
        auto f = header5(static_cast<std::uint32_t>(body.size()), proto::MsgType::scram_client_first);
        f.insert(f.end(), body.begin(), body.end());
        expect_refusal(c.ch->tls(), f, "a SCRAM message of max_sasl_bytes+1", Errc::limit_exceeded);
    }
    {
        Conn c = connect(s);
        if (login(c, s.user, s.password) != Errc::ok) throw Error(Errc::auth_failed, "login");
        proto::UploadBegin b{c.header(), "oversize-chunk.bin", proto::max_chunk + 1, true};
        c.ch->send(b, soon());
        std::get<proto::OkReply>(c.rx());
        auto f = header5(static_cast<std::uint32_t>(proto::max_chunk + 1), proto::MsgType::upload_chunk);
        f.insert(f.end(), proto::max_chunk + 1, 0x55);
        expect_refusal(c.ch->tls(), f, "an upload_chunk of max_chunk+1 bytes", Errc::limit_exceeded);
    }
    {
        auto t = mtls(s);
        auto f = proto::encode_message(proto::Hello{proto::protocol_version, proto::Service::file});
        f[3] = static_cast<std::uint8_t>(f[3] + 1);  // one trailing byte
        f.push_back(0);
        expect_refusal(*t, f, "a hello with a trailing byte", Errc::protocol);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    if (argc < 3) {
        std::cerr << "usage: flood_client flood CONFIG SERVER_PID CONNECTIONS SOURCES SECONDS MAX_THREADS MAX_RSS_GROWTH_MIB\n"
                     "       flood_client oversize CONFIG\n";
        return 2;
    }
    const std::string mode = argv[1];
    try {
        Setup s(argv[2]);
        if (mode == "flood" && argc == 9) {
            flood(s, std::stoi(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]), std::stoi(argv[6]), std::stol(argv[7]),
                  std::stol(argv[8]));
        } else if (mode == "oversize") {
            oversize(s);
        } else {
            std::cerr << "bad arguments\n";
            return 2;
        }
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << std::endl;
        return 1;
    }
    std::cout << mode << ": " << (failures ? std::to_string(failures) + " failures" : std::string("all as expected")) << std::endl;
    return failures ? 1 : 0;
}
