// sftsd: the enrollment (8444) and file (8443) services. Keys are loaded from the token before
// the listeners start; each connection is served by a worker of POCO's TCPServer.
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

#include <csignal>
#include <iostream>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/server/config.hpp"
#include "sfts/server/context.hpp"

namespace {

using namespace sfts;
using Poco::Net::StreamSocket;
using Poco::Net::TCPServerConnection;

using Handler = void (*)(server::ServerContext&, StreamSocket);

class Connection : public TCPServerConnection {
public:
    Connection(const StreamSocket& s, server::ServerContext& ctx, Handler h) : TCPServerConnection(s), ctx_(ctx), h_(h) {}
    void run() override {
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

Poco::Logger& setup_logging(const server::Config& cfg) {
    Poco::AutoPtr<Poco::PatternFormatter> fmt(new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p [%I] %t"));
    Poco::AutoPtr<Poco::Channel> out;
    if (cfg.log.file.empty()) {
        out = new Poco::ConsoleChannel(std::cerr);
    } else {
        auto* f = new Poco::FileChannel(cfg.log.file);
        f->setProperty("rotation", "daily");
        f->setProperty("archive", "timestamp");
        f->setProperty("purgeCount", "10");
        f->setProperty("flush", "true");
        out = f;
    }
    Poco::AutoPtr<Poco::FormattingChannel> chan(new Poco::FormattingChannel(fmt, out));
    Poco::Logger& log = Poco::Logger::get("sftsd");
    log.setChannel(chan);
    log.setLevel(cfg.log.level);
    return log;
}

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
        try {
            std::string path = config_path_.empty() ? "/etc/sftsd/sftsd.conf" : config_path_;
            cfg = server::load_config(path);
        } catch (const Error& e) {
            std::cerr << "sftsd: configuration: " << e.what() << "\n";
            return EXIT_CONFIG;
        }
        Poco::Logger& log = setup_logging(cfg);
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
            Poco::Net::ServerSocket file_sock(file_addr, 128);
            Poco::Net::ServerSocket enroll_sock(enroll_addr, 64);
            auto params = [&](int threads) {
                Poco::Net::TCPServerParams::Ptr p(new Poco::Net::TCPServerParams);
                p->setMaxThreads(threads);
                p->setMaxQueued(cfg.service.max_connections);
                p->setThreadIdleTime(Poco::Timespan(10, 0));
                return p;
            };
            Poco::ThreadPool file_pool(2, cfg.service.threads);
            Poco::ThreadPool enroll_pool(1, 8);
            Poco::Net::TCPServer file_srv(new Factory(*ctx, server::serve_file_session), file_pool, file_sock,
                                          params(cfg.service.threads));
            Poco::Net::TCPServer enroll_srv(new Factory(*ctx, server::serve_enrollment), enroll_pool, enroll_sock,
                                            params(8));
            file_srv.setConnectionFilter(new Filter(*ctx));
            enroll_srv.setConnectionFilter(new Filter(*ctx));
            file_srv.start();
            enroll_srv.start();
            int fp = file_sock.address().port(), ep = enroll_sock.address().port();
            log.notice("audit trail " + cfg.service.audit_log + " at " + ctx->audit->head());
            log.notice("listening: file service on " + cfg.service.listen + ":" + std::to_string(fp) +
                       ", enrollment on " + cfg.service.listen + ":" + std::to_string(ep));
            if (!cfg.service.ports_file.empty())
                write_file_atomic(cfg.service.ports_file,
                                  "file=" + std::to_string(fp) + " enroll=" + std::to_string(ep) + "\n", 0644);
            waitForTerminationRequest();
            log.notice("stopping");
            file_srv.stop();
            enroll_srv.stop();
            file_pool.joinAll();
            enroll_pool.joinAll();
            // An anchor outside the trail: removing its last records shows against this line.
            log.notice("audit trail " + cfg.service.audit_log + " at " + ctx->audit->head());
        } catch (const Poco::Exception& e) {
            log.fatal("cannot listen: " + e.displayText());
            return EXIT_OSERR;
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
    std::signal(SIGPIPE, SIG_IGN);  // a peer that vanishes must not kill the server
    std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit fails the upload (storage full), not the server
    Sftsd app;
    return app.run(argc, argv);
}
