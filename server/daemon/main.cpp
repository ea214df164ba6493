// sftsd: the enrollment (8444) and file (8443) services. Keys are loaded from the token before
// the listeners start; each connection is served by a worker of POCO's TCPServer.
// Under systemd (Type=notify): READY=1 once both ports listen, STOPPING=1 on SIGTERM, watchdog
// pings; SIGHUP reloads what can change safely under running sessions; a changed crl.pem is
// picked up within two seconds (sfts-admin cert revoke rewrites it).
#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <malloc.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <tuple>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/log_format.hpp"
#include "sfts/server/config.hpp"
#include "sfts/server/context.hpp"

namespace {

using namespace sfts;
using Poco::Net::StreamSocket;
using Poco::Net::TCPServerConnection;

using Handler = void (*)(server::ServerContext&, StreamSocket);

// The sessions being served, so that shutdown can wait for them and then close what is left.
class Sessions {
public:
    void add(const void* key, const StreamSocket& s) {
        std::lock_guard lock(m_);
        open_.emplace(key, s);
    }
    void remove(const void* key) {
        std::lock_guard lock(m_);
        open_.erase(key);
    }
    std::size_t count() {
        std::lock_guard lock(m_);
        return open_.size();
    }
    // Both directions shut: a session blocked in a read sees the end and unwinds (an unfinished
    // upload's temporary file is removed by the storage layer when its Upload object dies).
    void close_all() {
        std::lock_guard lock(m_);
        for (auto& [key, sock] : open_) {
            try {
                sock.shutdown();
            } catch (const Poco::Exception&) {
                // already closed by its peer
            }
        }
    }

private:
    std::mutex m_;
    std::map<const void*, StreamSocket> open_;
};

Sessions g_sessions;

class Connection : public TCPServerConnection {
public:
    Connection(const StreamSocket& s, server::ServerContext& ctx, Handler h) : TCPServerConnection(s), ctx_(ctx), h_(h) {}
    void run() override {
        g_sessions.add(this, socket());
        struct Registered {
            const void* key;
            ~Registered() { g_sessions.remove(key); }
        } registered{this};
        Poco::Net::IPAddress ip;
        try {
            ip = socket().peerAddress().host();
        } catch (const Poco::Exception&) {
            return;  // the peer is already gone
        }
        if (auto why = ctx_.abuse->open_connection(ip)) {
            ctx_.log->warning("refused connection from " + ip.toString() + ": " + *why);
            return;
        }
        struct Closed {
            server::ServerContext& ctx;
            const Poco::Net::IPAddress& ip;
            ~Closed() { ctx.abuse->connection_closed(ip); }
        } closed{ctx_, ip};
        h_(ctx_, socket());
    }

private:
    server::ServerContext& ctx_;
    Handler h_;
};

class Factory : public Poco::Net::TCPServerConnectionFactory {
public:
    Factory(server::ServerContext& ctx, Handler h) : ctx_(ctx), h_(h) {}
    TCPServerConnection* createConnection(const StreamSocket& s) override { return new Connection(s, ctx_, h_); }

private:
    server::ServerContext& ctx_;
    Handler h_;
};

// Runs in the accepting thread: a blocked or flooding source is dropped before any TLS work.
class Filter : public Poco::Net::TCPServerConnectionFilter {
public:
    explicit Filter(server::ServerContext& ctx) : ctx_(ctx) {}
    bool accept(const StreamSocket& s) override {
        try {
            auto ip = s.peerAddress().host();
            if (auto why = ctx_.abuse->admit_connection(ip)) {
                ctx_.log->warning("refused connection from " + ip.toString() + ": " + *why);
                return false;
            }
            return true;
        } catch (const std::exception& e) {
            ctx_.log->error(std::string("connection filter: ") + e.what());
            return false;  // fail closed: without the block list we cannot tell
        }
    }

private:
    server::ServerContext& ctx_;
};

// Error(invalid_argument) naming log.file and the path when the file cannot be opened (its
// directory missing, say), instead of POCO's bare "File not found" at the first message.
Poco::Logger& setup_logging(const server::Config& cfg) {
    // Every line escaped (sfts::escape_text): names from peers cannot forge lines or drive terminals.
    Poco::AutoPtr<EscapingFormatter> fmt(new EscapingFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p [%I] %t"));
    Poco::AutoPtr<Poco::Channel> out;
    if (cfg.log.file.empty()) {
        out = new Poco::ConsoleChannel(std::cerr);
    } else {
        Poco::AutoPtr<Poco::FileChannel> f(new Poco::FileChannel(cfg.log.file));
        f->setProperty("rotation", "daily");
        f->setProperty("archive", "timestamp");
        f->setProperty("purgeCount", "10");
        f->setProperty("flush", "true");
        try {
            f->open();
        } catch (const Poco::Exception& e) {
            auto slash = cfg.log.file.rfind('/');
            std::string dir = slash == std::string::npos ? "." : cfg.log.file.substr(0, std::max<std::size_t>(slash, 1));
            struct stat st {};
            std::string why = ::stat(dir.c_str(), &st) != 0 ? "its directory " + dir + " does not exist"
                              : !S_ISDIR(st.st_mode)          ? dir + " is not a directory"
                                                              : e.displayText();
            fail(Errc::invalid_argument, "log.file: cannot open " + cfg.log.file + ": " + why);
        }
        out = f;
    }
    Poco::AutoPtr<Poco::FormattingChannel> chan(new Poco::FormattingChannel(fmt, out));
    Poco::Logger& log = Poco::Logger::get("sftsd");
    log.setChannel(chan);
    log.setLevel(cfg.log.level);
    return log;
}

std::int64_t mtime_ns(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return -1;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// SIGHUP: what may change under running sessions. Session limits and listeners are read by
// many threads without locks, so they need a restart; an invalid file keeps the old settings.
void reload(server::ServerContext& ctx, const std::string& path, Poco::Logger& log) {
    server::Config next;
    try {
        next = server::load_config(path);
    } catch (const Error& e) {
        log.error(std::string("reload: configuration rejected, keeping the running one: ") + e.what());
        return;
    }
    std::string done;
    try {
        ctx.reload_crl();
        done += "CRL";
    } catch (const Error& e) {
        log.error(std::string("reload: CRL: ") + e.what());
    }
    try {
        ctx.policy->reload();
        done += done.empty() ? "password blocklist" : ", password blocklist";
    } catch (const Error& e) {
        log.error(std::string("reload: password blocklist: ") + e.what());
    }
    log.setLevel(next.log.level);
    done += ", log level " + next.log.level;
    log.notice("reloaded on SIGHUP: " + done + " (other options take effect at the next start)");
    ctx.check_certificates();
}

// One thread for the things that happen between requests: SIGHUP (blocked in every thread,
// taken here with sigtimedwait), the CRL's mtime, and the systemd watchdog.
class Housekeeper {
public:
    Housekeeper(server::ServerContext& ctx, std::string config_path, Poco::Logger& log, std::function<void()> collect)
        : ctx_(ctx), path_(std::move(config_path)), log_(log), collect_(std::move(collect)), thread_([this] { loop(); }) {}
    ~Housekeeper() {
        stop_ = true;
        thread_.join();
    }
    Housekeeper(const Housekeeper&) = delete;
    Housekeeper& operator=(const Housekeeper&) = delete;

private:
    void loop() {
        std::uint64_t wd_usec = 0;
        bool watchdog = sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0;
        auto tick = std::chrono::milliseconds(500);
        if (watchdog) tick = std::min(tick, std::chrono::milliseconds(static_cast<std::int64_t>(wd_usec / 2000)));
        const std::string crl = ctx_.cfg.pki.crl_path();
        std::int64_t crl_seen = mtime_ns(crl);
        auto next_crl_check = std::chrono::steady_clock::now();
        // make_context checked at start; then every pki.crl_check_s (wall-clock due dates, so a
        // suspended host that wakes up late is caught at the next check).
        const auto refresh_every = std::chrono::seconds(ctx_.cfg.pki.crl_check_s);
        auto next_crl_refresh = std::chrono::steady_clock::now() + refresh_every;
        auto next_cert_check = std::chrono::steady_clock::now() + std::chrono::hours(24);
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        while (!stop_) {
            struct timespec ts {};
            ts.tv_nsec = std::chrono::duration_cast<std::chrono::nanoseconds>(tick).count();
            if (sigtimedwait(&hup, nullptr, &ts) == SIGHUP) {
                reload(ctx_, path_, log_);
                crl_seen = mtime_ns(crl);
            }
            if (watchdog) sd_notify(0, "WATCHDOG=1");
            auto now = std::chrono::steady_clock::now();
            if (now >= next_cert_check) {
                next_cert_check = now + std::chrono::hours(24);
                ctx_.check_certificates();
            }
            if (now >= next_crl_refresh) {
                next_crl_refresh = now + refresh_every;
                ctx_.refresh_crl();  // logs what it did or why it could not (and loads a new one)
            }
            if (now >= next_crl_check) {
                next_crl_check = now + std::chrono::seconds(2);
                collect_();  // idle worker threads past server.thread_idle_s end
                std::int64_t m = mtime_ns(crl);
                if (m != crl_seen) {
                    try {
                        ctx_.reload_crl();
                        crl_seen = m;
                        log_.notice("CRL " + crl + " changed: reloaded");
                    } catch (const Error& e) {
                        log_.error("CRL " + crl + " changed but cannot be loaded, keeping the old one: " + e.what());
                    }
                }
            }
        }
    }

    server::ServerContext& ctx_;
    std::string path_;
    Poco::Logger& log_;
    std::function<void()> collect_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

class Sftsd : public Poco::Util::ServerApplication {
protected:
    void defineOptions(Poco::Util::OptionSet& options) override {
        ServerApplication::defineOptions(options);
        options.addOption(Poco::Util::Option("config", "c", "configuration file (default /etc/sftsd/sftsd.conf)")
                              .required(false)
                              .argument("FILE")
                              .callback(Poco::Util::OptionCallback<Sftsd>(this, &Sftsd::on_config)));
        options.addOption(Poco::Util::Option("help", "h", "this help")
                              .required(false)
                              .callback(Poco::Util::OptionCallback<Sftsd>(this, &Sftsd::on_help)));
    }

    void on_config(const std::string&, const std::string& value) { config_path_ = value; }
    void on_help(const std::string&, const std::string&) {
        Poco::Util::HelpFormatter help(options());
        help.setCommand(commandName());
        help.setUsage("[--config FILE]");
        help.setHeader("sfts server: enrollment and file services with keys in a hardware token.");
        help.format(std::cout);
        stopOptionsProcessing();
        help_ = true;
    }

    int main(const std::vector<std::string>&) override {
        if (help_) return EXIT_OK;
        server::Config cfg;
        const std::string path = config_path_.empty() ? "/etc/sftsd/sftsd.conf" : config_path_;
        try {
            cfg = server::load_config(path);
        } catch (const Error& e) {
            std::cerr << "sftsd: configuration: " << e.what() << "\n";
            return EXIT_CONFIG;
        }
        // Whatever umask we were started with, nothing we create is for group or others:
        // the databases hold password verifiers, the audit trail who did what.
        ::umask(::umask(0) | 077);
        Poco::Logger* logp = nullptr;
        try {
            logp = &setup_logging(cfg);
        } catch (const Error& e) {
            std::cerr << "sftsd: configuration: " << (cfg.source_path.empty() ? "" : cfg.source_path + ": ") << e.what() << "\n";
            return EXIT_CONFIG;
        }
        Poco::Logger& log = *logp;
        if (auto loose = server::loose_state_modes(cfg); !loose.empty()) {
            log.fatal("cannot start: the state must not be accessible by group or others: " + loose +
                      " (chmod 700 for directories, chmod 600 for files)");
            return EXIT_CONFIG;
        }
        std::unique_ptr<server::ServerContext> ctx;
        try {
            auto pin = hsm::read_secret(cfg.pin_source, "PIN for the server token: ");
            std::optional<Secret> site;
            if (cfg.auth.site_secret_enabled)
                site = hsm::read_secret(cfg.auth.site_secret, "Site enrollment secret: ");
            ctx = server::make_context(cfg, pin, std::move(site), log);
        } catch (const Error& e) {
            log.fatal(std::string("cannot start: ") + std::string(errc_name(e.kind())) + ": " + e.what());
            return EXIT_SOFTWARE;
        }

        try {
            Poco::Net::SocketAddress file_addr(cfg.service.listen, static_cast<Poco::UInt16>(cfg.service.file_port));
            Poco::Net::SocketAddress enroll_addr(cfg.service.listen, static_cast<Poco::UInt16>(cfg.service.enroll_port));
            // SO_REUSEADDR (a restart need not wait for TIME_WAIT) but never SO_REUSEPORT,
            // which POCO's ServerSocket(address, backlog) sets too: with it, a second process on
            // the same ports would start and the kernel would split the clients between them.
            Poco::Net::ServerSocket file_sock, enroll_sock;
            for (auto [sock, addr, backlog, what] :
                 {std::tuple{&file_sock, &file_addr, 128, "file service"}, std::tuple{&enroll_sock, &enroll_addr, 64, "enrollment"}}) {
                try {
                    sock->bind(*addr, true, false);
                    sock->listen(backlog);
                } catch (const Poco::Exception& e) {
                    log.fatal(std::string("cannot listen: ") + what + " on " + addr->toString() + ": " + e.displayText() +
                              " (is another sftsd running on it?)");
                    return EXIT_OSERR;
                }
            }
            auto params = [&](int threads) {
                Poco::Net::TCPServerParams::Ptr p(new Poco::Net::TCPServerParams);
                p->setMaxThreads(threads);
                p->setMaxQueued(cfg.service.max_connections);
                p->setThreadIdleTime(Poco::Timespan(std::min(cfg.service.thread_idle_s, 10), 0));
                return p;
            };
            if (cfg.service.threads < cfg.service.max_connections)
                log.warning("server.threads (" + std::to_string(cfg.service.threads) + ") is below server.max_connections (" +
                            std::to_string(cfg.service.max_connections) +
                            "): logged-in sessions keep their worker, so connections beyond that many wait in the queue");
            // Worker threads idle longer than server.thread_idle_s end (the housekeeper collects
            // them), so that a burst of connections does not leave the pool at its maximum.
            Poco::ThreadPool file_pool(2, cfg.service.threads, cfg.service.thread_idle_s);
            Poco::ThreadPool enroll_pool(1, 8, cfg.service.thread_idle_s);
            Poco::Net::TCPServer file_srv(new Factory(*ctx, server::serve_file_session), file_pool, file_sock,
                                          params(cfg.service.threads));
            Poco::Net::TCPServer enroll_srv(new Factory(*ctx, server::serve_enrollment), enroll_pool, enroll_sock,
                                            params(8));
            file_srv.setConnectionFilter(new Filter(*ctx));
            enroll_srv.setConnectionFilter(new Filter(*ctx));
            // The token went away under us (check_token logged why): stop as on SIGTERM, but
            // exit with a failure status so that systemd restarts sftsd (Restart=on-failure);
            // the new process either gets the token again or refuses to start, naming it.
            ctx->on_token_lost = [](const std::string&) { ::kill(::getpid(), SIGTERM); };
            file_srv.start();
            enroll_srv.start();
            int fp = file_sock.address().port(), ep = enroll_sock.address().port();
            log.notice("audit trail " + cfg.service.audit_log + " at " + ctx->audit->head());
            log.notice("listening: file service on " + cfg.service.listen + ":" + std::to_string(fp) +
                       ", enrollment on " + cfg.service.listen + ":" + std::to_string(ep));
            if (!cfg.service.ports_file.empty())
                write_file_atomic(cfg.service.ports_file,
                                  "file=" + std::to_string(fp) + " enroll=" + std::to_string(ep) + "\n", 0644);
            Housekeeper housekeeper(*ctx, path, log, [&] {
                file_pool.collect();
                enroll_pool.collect();
            });
            // Both ports listen and the token keys are loaded: only now may systemd start dependants.
            sd_notifyf(0, "READY=1\nSTATUS=file service on port %d, enrollment on port %d", fp, ep);
            waitForTerminationRequest();
            sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing running sessions");
            log.notice("stopping: no new connections; " + std::to_string(g_sessions.count()) +
                       " session(s) get " + std::to_string(cfg.service.shutdown_grace_s) + " s to finish");
            file_srv.stop();
            enroll_srv.stop();
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(cfg.service.shutdown_grace_s);
            while (g_sessions.count() > 0 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (auto left = g_sessions.count(); left > 0) {
                log.warning("grace period over: closing " + std::to_string(left) + " session(s)");
                g_sessions.close_all();
            }
            file_pool.joinAll();
            enroll_pool.joinAll();
            // An anchor outside the trail: removing its last records shows against this line.
            log.notice("audit trail " + cfg.service.audit_log + " at " + ctx->audit->head());
        } catch (const Poco::Exception& e) {
            log.fatal("cannot listen: " + e.displayText());
            return EXIT_OSERR;
        }
        if (ctx->token_lost) {
            log.fatal("stopped: the server token is no longer usable; restart sftsd once it is back");
            return EXIT_UNAVAILABLE;
        }
        log.notice("stopped");
        return EXIT_OK;
    }

private:
    std::string config_path_;
    bool help_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    // Transfers allocate and free 1 MiB frame buffers all the time; above glibc's default
    // thresholds each one is a fresh mmap/munmap with page faults (docs/benchmarks.md, finding 3).
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    std::signal(SIGPIPE, SIG_IGN);  // a peer that vanishes must not kill the server
    std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit fails the upload (storage full), not the server
    // SIGHUP is taken synchronously by the housekeeping thread; blocked before any thread exists
    // so that no worker is ever interrupted by it. SIGTERM, SIGQUIT and SIGINT are taken by the
    // main thread (POCO's waitForTerminationRequest: sigwait), which blocks them only in itself,
    // after the workers have started: a process-directed SIGTERM could then be taken by a worker
    // with its default action, and sftsd died (status 143) without its graceful stop. Blocked
    // here too, so that every thread inherits the mask (SIGINT only where POCO waits for it).
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGQUIT);
    if (!std::getenv("POCO_ENABLE_DEBUGGER")) sigaddset(&blocked, SIGINT);
    pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
    Sftsd app;
    return app.run(argc, argv);
}
