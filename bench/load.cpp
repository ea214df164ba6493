// Load cases of the benchmark suite (bench/run.sh), driven through the client library:
//
//   sfts-bench-load transfer CONF --clients N --src DIR --dest DIR [--tag T]
//       N sessions, each uploading every file of DIR and downloading it again, all at once.
//   sfts-bench-load idle CONF --sessions N --server-pid PID
//       N logged-in idle sessions; prints the server's resident memory before and with them.
//   sfts-bench-load handshakes CONF --count N [--threads T]
//       N new mutual-TLS connections (handshake, hello, exit), T at a time.
//
// Each prints one line of key=value pairs for run.sh to parse.
//
// Token discipline (docs/conventions.md §8): Session::connect loads the token key itself, and loading
// (libp11's enumeration and login) is not thread-safe, so sessions are connected one after the
// other on the main thread; only then do worker threads start, each driving its own session.
// Signing with an already loaded key from many threads at once is safe.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load_common.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/net/channel.hpp"
#include "sfts/ossl.hpp"

namespace {

using namespace sfts;
using load::Args;
using load::Clock;
using load::Login;
using load::seconds_since;
using load::sha256_file;
using load::status_kib;
namespace fs = std::filesystem;

int run_transfer(const Args& a) {
    Login login(a.positional[0]);
    const int clients = a.num("--clients");
    const std::string src = a.get("--src"), dest = a.get("--dest"), tag = a.get("--tag", "t");
    struct Source {
        std::string path, name;
        std::uint64_t size;
        proto::Sha256 sha;
    };
    std::vector<Source> files;
    for (const auto& e : fs::directory_iterator(src))
        if (e.is_regular_file())
            files.push_back({e.path().string(), e.path().filename().string(), e.file_size(), sha256_file(e.path())});
    std::sort(files.begin(), files.end(), [](const Source& x, const Source& y) { return x.name < y.name; });
    if (files.empty()) fail(Errc::not_found, "no files in " + src);

    auto t0 = Clock::now();
    std::vector<std::unique_ptr<client::Session>> sessions;
    for (int i = 0; i < clients; ++i) sessions.push_back(login.connect());
    double connect_s = seconds_since(t0);

    std::atomic<int> verified{0};
    std::atomic<std::uint64_t> bytes{0};
    std::mutex err_mutex;
    std::vector<std::string> errors;
    auto remote = [&](int i, const Source& f) { return "load-" + tag + "-c" + std::to_string(i) + "-" + f.name; };
    auto work = [&](int i) {
        try {
            auto& s = *sessions[static_cast<std::size_t>(i)];
            for (const auto& f : files) {
                auto r = s.upload(f.path, remote(i, f), true);
                if (r.sha256 != f.sha || r.size != f.size) fail(Errc::integrity, "upload receipt of " + f.name);
                bytes += r.size;
                ++verified;
            }
            for (const auto& f : files) {
                std::string out = dest + "/c" + std::to_string(i) + "-" + f.name;
                auto r = s.download(remote(i, f), out, true);
                if (r.sha256 != f.sha || r.size != f.size) fail(Errc::integrity, "download of " + f.name);
                bytes += r.size;
                ++verified;
            }
        } catch (const std::exception& e) {
            std::lock_guard lock(err_mutex);
            errors.push_back("client " + std::to_string(i) + ": " + e.what());
        }
    };
    auto t1 = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) threads.emplace_back(work, i);
    for (auto& t : threads) t.join();
    double transfer_s = seconds_since(t1);

    for (int i = 0; i < clients; ++i) {  // tidy up, untimed
        try {
            for (const auto& f : files) sessions[static_cast<std::size_t>(i)]->remove(remote(i, f));
            sessions[static_cast<std::size_t>(i)]->close();
        } catch (const std::exception& e) {
            std::cerr << "load: cleanup of client " << i << ": " << e.what() << "\n";
        }
    }
    for (const auto& e : errors) std::cerr << "load: " << e << "\n";
    const int expected = clients * static_cast<int>(files.size()) * 2;
    std::printf("transfer: clients=%d files=%zu verified=%d expected=%d bytes=%llu connect_s=%.3f transfer_s=%.3f "
                "MBps=%.1f\n",
                clients, files.size(), verified.load(), expected, static_cast<unsigned long long>(bytes.load()),
                connect_s, transfer_s, static_cast<double>(bytes.load()) / transfer_s / 1e6);
    return errors.empty() && verified.load() == expected ? 0 : 1;
}

int run_idle(const Args& a) {
    Login login(a.positional[0]);
    const int n = a.num("--sessions");
    const int pid = a.num("--server-pid");
    // One session first, so the server's lazily built state (database, pools) is not counted
    // as the cost of idle sessions.
    std::vector<std::unique_ptr<client::Session>> sessions;
    sessions.push_back(login.connect());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    long before = status_kib(pid, "VmRSS");
    auto t0 = Clock::now();
    for (int i = 1; i < n; ++i) sessions.push_back(login.connect());
    double connect_s = seconds_since(t0);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    long rss = status_kib(pid, "VmRSS"), hwm = status_kib(pid, "VmHWM"), threads = status_kib(pid, "Threads");
    // Every session must still be alive and logged in: ask each for its commands.
    int alive = 0;
    for (auto& s : sessions) {
        try {
            if (!s->help().empty()) ++alive;
        } catch (const std::exception& e) {
            std::cerr << "load: idle session lost: " << e.what() << "\n";
        }
    }
    for (auto& s : sessions) {
        try {
            s->close();
        } catch (const std::exception&) {
        }
    }
    std::printf("idle: sessions=%d alive=%d server_rss_before_kib=%ld server_rss_kib=%ld server_hwm_kib=%ld "
                "server_threads=%ld per_session_kib=%.1f connect_s=%.3f\n",
                n, alive, before, rss, hwm, threads, n > 1 ? static_cast<double>(rss - before) / (n - 1) : 0.0,
                connect_s);
    return alive == n ? 0 : 1;
}

int run_handshakes(const Args& a) {
    Login login(a.positional[0]);
    const auto& cfg = login.cfg;
    const int count = a.num("--count");
    const int nthreads = a.num("--threads", "4");
    // The key is loaded once, before any thread starts.
    auto key = hsm::KeyProvider::for_module(cfg.module).private_key(cfg.token.with_object(cfg.key_label), login.pin);
    auto cert = ossl::x509_from_pem(read_file(cfg.cert_path()));
    auto ca = ossl::x509_from_pem(read_file(cfg.ca_path()));
    auto ctx = net::TlsContext::client({ca.get(), key.get(), cert.get(), cfg.host});
    Poco::Net::SocketAddress addr(cfg.host, static_cast<Poco::UInt16>(cfg.file_port));

    auto one = [&] {
        auto deadline = net::deadline_in(std::chrono::milliseconds(cfg.timeout_ms));
        Poco::Net::StreamSocket sock;
        sock.connect(addr);
        auto stream = std::make_unique<net::TlsStream>(ctx, sock);
        stream->handshake(deadline);
        net::Channel ch(std::move(stream), proto::Side::client, proto::Service::file);
        ch.send(proto::Hello{proto::protocol_version, proto::Service::file}, deadline);
        if (!std::holds_alternative<proto::ServerHello>(ch.receive(deadline))) fail(Errc::protocol, "no server_hello");
        proto::ExitRequest bye;
        bye.header.request_id = 1;
        bye.header.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
        auto nonce = auth::random_bytes(bye.header.nonce.size());
        std::copy(nonce.begin(), nonce.end(), bye.header.nonce.begin());
        ch.send(bye, deadline);
        if (!std::holds_alternative<proto::OkReply>(ch.receive(deadline))) fail(Errc::protocol, "no ok_reply to exit");
        ch.tls().close(deadline);
    };
    one();  // warm-up: first use of the engine, the context, the server's pool

    std::atomic<int> next{0}, done{0};
    std::mutex err_mutex;
    std::string first_error;
    auto work = [&] {
        while (next.fetch_add(1) < count) {
            try {
                one();
                ++done;
            } catch (const std::exception& e) {
                std::lock_guard lock(err_mutex);
                if (first_error.empty()) first_error = e.what();
            }
        }
    };
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < nthreads; ++i) threads.emplace_back(work);
    for (auto& t : threads) t.join();
    double secs = seconds_since(t0);
    if (!first_error.empty()) std::cerr << "load: handshake failed: " << first_error << "\n";
    std::printf("handshakes: count=%d ok=%d threads=%d seconds=%.3f per_s=%.1f\n", count, done.load(), nthreads, secs,
                done.load() / secs);
    return done.load() == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    try {
        a = Args::parse(argc, argv);
        if (a.positional.size() != 1) throw std::invalid_argument("need MODE and CONFIG");
        if (a.mode == "transfer") return run_transfer(a);
        if (a.mode == "idle") return run_idle(a);
        if (a.mode == "handshakes") return run_handshakes(a);
        throw std::invalid_argument("unknown mode " + a.mode);
    } catch (const sfts::Error& e) {
        std::cerr << "load: " << sfts::errc_name(e.kind()) << ": " << e.what() << "\n";
        return sfts::exit_code(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "load: " << e.what() << "\n"
                  << "usage: sfts-bench-load transfer|idle|handshakes CONFIG [--option value]...\n";
        return 1;
    }
}
