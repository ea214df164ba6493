// sfts: the batch client. Secrets (PIN, password, enrollment secret) come from a no-echo
// prompt, a file or an environment variable: never from argv.
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "sfts/pki/x509.hpp"
#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/ossl.hpp"
#include "sfts/protocol/limits.hpp"
#include "sfts/text.hpp"

namespace {

using namespace sfts;

constexpr const char* kUsage = R"(usage: sfts [OPTIONS] COMMAND [ARGS]

commands:
  enroll --user NAME [--token-id ID] [--secret SRC] [--reuse-key]
                         make a new key in your token and get a certificate for it (site
                         secret, or a one-time token from your administrator with --token-id);
                         the key it replaces is removed once the new certificate is confirmed.
                         --reuse-key certifies the key already in the token instead (refused
                         if a certificate of that key was revoked)
  ls                     list the files on the server
  put FILE... [--as NAME] [--overwrite]
                         upload files (signed with your token key)
  get NAME... [-o DIR] [--overwrite]
                         download files (verified before they appear)
  rm NAME...             delete files on the server
  passwd [--new-password SRC]
                         change your password
  renew                  renew your certificate before it expires: a new key in your token,
                         a new certificate from the server; the old one is revoked at once
  cert                   your certificate: subject, serial, validity, days left (no PIN needed)
  cert install FILE      install a certificate your administrator re-signed for your key
                         (sfts-admin cert renew)
  help                   the commands your role may use
  config                 print every configuration option with its default

options:
  --config FILE          configuration (default $SFTS_CONFIG or ~/.config/sfts/sfts.conf)
  --server HOST          server name or address     --port N / --enroll-port N
  --token URI            PKCS#11 URI of your token  --module PATH   PKCS#11 module
  --pin SRC              where the token PIN comes from
  --password SRC         where your password comes from
  --dir DIR              where ca.crt and client.crt are kept
  --progress / --quiet   force or suppress the progress line (--quiet: and notes on stderr)

SRC is prompt (no echo; the default), file:PATH (mode 0600) or env:NAME.
"--" ends the options: what follows are names, even when they start with '-'
(sfts get -- -rf). ls prints names with spaces or unusual characters quoted, as GNU ls
does ('my file', 'a'$'\n''b'), so that they can be pasted back into a shell.
Every command that talks to the server warns on stderr (and in the client log) when your
certificate expires within cert.warn_days (default 30) days.
Exit status: 0 success, 1 usage, otherwise the error kind (see docs).
)";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Args {
    std::vector<std::string> pos;
    std::map<std::string, std::string> opt;
    std::map<std::string, bool> flag;
};

const std::map<std::string, bool> kOptions = {
    {"--config", true},      {"--server", true},   {"--port", true},      {"--enroll-port", true},
    {"--token", true},       {"--module", true},   {"--pin", true},       {"--password", true},
    {"--dir", true},         {"--user", true},     {"--token-id", true},  {"--secret", true},
    {"--as", true},          {"-o", true},         {"--new-password", true}, {"--overwrite", false},
    {"--progress", false},   {"--reuse-key", false},   {"--quiet", false},   {"--help", false},
};

Args parse(int argc, char** argv) {
    Args a;
    bool options_end = false;  // after "--" every argument is a name, even "-rf"
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (!options_end && s == "--") {
            options_end = true;
        } else if (!options_end && s.size() > 1 && s[0] == '-') {
            auto it = kOptions.find(s);
            if (it == kOptions.end())
                throw UsageError("unknown option " + quote_name(s) + " (a name that starts with '-' goes after '--', e.g. sfts get -- " +
                                 quote_name(s) + ")");
            if (it->second) {
                if (i + 1 >= argc) throw UsageError(s + " needs a value");
                a.opt[s] = argv[++i];
            } else {
                a.flag[s] = true;
            }
        } else {
            a.pos.push_back(s);
        }
    }
    return a;
}

int port_arg(const std::string& name, const std::string& v) {
    try {
        int p = std::stoi(v);
        if (p > 0 && p < 65536 && std::to_string(p) == v) return p;
    } catch (const std::exception&) {
    }
    throw UsageError(name + " must be a port number");
}

client::ClientConfig config_for(const Args& a) {
    auto path = a.opt.count("--config") ? a.opt.at("--config") : client::default_client_config_path();
    if (a.opt.count("--config") && access(path.c_str(), R_OK) != 0) fail(Errc::not_found, "no configuration file " + path);
    auto c = client::load_client_config(path);
    if (a.opt.count("--server")) c.host = a.opt.at("--server");
    if (a.opt.count("--port")) c.file_port = port_arg("--port", a.opt.at("--port"));
    if (a.opt.count("--enroll-port")) c.enroll_port = port_arg("--enroll-port", a.opt.at("--enroll-port"));
    if (a.opt.count("--token")) c.token = hsm::ObjectUri::parse(a.opt.at("--token"));
    if (a.opt.count("--module")) c.module = a.opt.at("--module");
    if (a.opt.count("--pin")) c.pin = hsm::SecretSource::parse(a.opt.at("--pin"));
    if (a.opt.count("--password")) c.password = hsm::SecretSource::parse(a.opt.at("--password"));
    if (a.opt.count("--dir")) c.dir = a.opt.at("--dir");
    if (a.opt.count("--user")) c.user = a.opt.at("--user");
    return c;
}

Secret new_password_from(const Args& a) {
    if (a.opt.count("--new-password")) return hsm::read_secret(hsm::SecretSource::parse(a.opt.at("--new-password")), "");
    auto first = hsm::prompt_hidden("New password: ");
    auto again = hsm::prompt_hidden("Repeat new password: ");
    if (first.view() != again.view()) fail(Errc::invalid_argument, "the two passwords differ");
    return first;
}

class ProgressLine {
public:
    ProgressLine(bool enabled, std::string name) : enabled_(enabled), name_(std::move(name)), start_(std::time(nullptr)) {}
    void operator()(std::uint64_t done, std::uint64_t total) {
        if (!enabled_) return;
        std::time_t now = std::time(nullptr);
        if (now == last_ && done < total) return;
        last_ = now;
        double secs = std::max<double>(1.0, static_cast<double>(now - start_));
        double rate = static_cast<double>(done) / secs;
        int pct = total ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)) : 100;
        double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
        std::fprintf(stderr, "\r%s: %s / %s - %d%% - ETA %ds - %s/s   ", name_.c_str(), human(done).c_str(),
                     human(total).c_str(), pct, static_cast<int>(eta), human(static_cast<std::uint64_t>(rate)).c_str());
        if (done >= total) std::fputc('\n', stderr);
    }

private:
    static std::string human(std::uint64_t n) {
        const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = static_cast<double>(n);
        int u = 0;
        while (v >= 1024 && u < 4) {
            v /= 1024;
            ++u;
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
        return buf;
    }
    bool enabled_;
    std::string name_;
    std::time_t start_, last_ = 0;
};

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string utc(std::time_t t) { return pki::utc_string(t); }

int show_certificate(const client::ClientConfig& cfg) {
    auto st = client::certificate_status(cfg);
    std::int64_t days = st.seconds_left / 86400;
    std::cout << "subject     CN=" << st.subject << "\n"
              << "issuer      CN=" << st.issuer << "\n"
              << "serial      " << st.serial << "\n"
              << "not before  " << utc(st.not_before) << "\n"
              << "not after   " << utc(st.not_after) << "\n"
              << "days left   " << (st.seconds_left < 0 ? std::string("0 (expired)") : std::to_string(days))
              << (st.expiring && st.seconds_left >= 0 ? " (expiring soon: run 'sfts renew')" : "") << "\n"
              << "sha256      " << st.sha256 << "\n"
              << "file        " << cfg.cert_path() << "\n";
    return 0;
}

int run(const Args& a) {
    if (a.flag.count("--help")) {
        std::cout << kUsage;
        return 0;
    }
    if (a.pos.empty()) throw UsageError("no command");
    const std::string& cmd = a.pos[0];
    if (cmd == "config") {
        std::cout << client::client_config_defaults_ini();
        return 0;
    }
    auto cfg = config_for(a);
    if (cmd == "cert" && a.pos.size() == 1) return show_certificate(cfg);
    auto pin = hsm::read_secret(cfg.pin, "PIN for token '" + cfg.token.to_string() + "': ");
    if (cmd == "cert") {
        if (a.pos.size() != 3 || a.pos[1] != "install") throw UsageError("cert: expected nothing or 'install FILE'");
        std::cout << client::install_certificate(cfg, pin, a.pos[2]).summary;
        return 0;
    }

    if (cmd == "enroll") {
        if (cfg.user.empty()) throw UsageError("enroll needs --user NAME (or user.name in the configuration)");
        client::EnrollRequest req;
        if (a.opt.count("--token-id")) {
            req.kind = proto::SecretKind::enrollment_token;
            req.token_id = a.opt.at("--token-id");
        }
        req.reuse_key = a.flag.count("--reuse-key") > 0;
        std::string src = a.opt.count("--secret") ? a.opt.at("--secret") : "prompt";
        req.secret = hsm::read_secret(hsm::SecretSource::parse(src),
                                      req.kind == proto::SecretKind::site_secret ? "Enrollment secret: " : "One-time token secret: ");
        auto r = client::enroll(cfg, pin, req);
        std::cout << r.summary;
        return 0;
    }

    auto password = [&] { return hsm::read_secret(cfg.password, "Password: "); };
    // The first login sets the password: to --new-password when given, else to the configured
    // user.password (file:, env:, credential:) so that batch use needs no terminal, else to
    // one asked for twice.
    auto first_password = [&] {
        if (a.opt.count("--new-password")) return new_password_from(a);
        if (cfg.password.kind != hsm::SecretSource::Kind::prompt) {
            if (!a.flag.count("--quiet"))
                std::cerr << "sfts: first login: your password is now the one from user.password\n";
            return hsm::read_secret(cfg.password, "");
        }
        std::cerr << "This account has no password yet: choose one (at least 8 characters).\n";
        return new_password_from(a);
    };
    if (cmd != "renew")
        if (auto warning = client::expiry_warning(cfg)) std::cerr << "sfts: warning: " << *warning << "\n";
    auto session = client::Session::connect(cfg, pin, password, first_password);
    if (cmd == "renew") {
        if (a.pos.size() != 1) throw UsageError("renew takes no arguments");
        std::cout << session->renew(pin).summary;
        return 0;  // the renewal ended the session
    }
    bool progress = a.flag.count("--progress") || (!a.flag.count("--quiet") && isatty(STDERR_FILENO));
    bool overwrite = a.flag.count("--overwrite") > 0;
    int rc = 0;
    auto each = [&](const std::function<void(const std::string&)>& f) {
        if (a.pos.size() < 2) throw UsageError(cmd + " needs at least one name");
        for (std::size_t i = 1; i < a.pos.size(); ++i) {
            try {
                f(a.pos[i]);
            } catch (const Error& e) {
                std::cerr << "sfts: " << quote_name(a.pos[i]) << ": " << errc_name(e.kind()) << ": " << escape_text(e.what()) << "\n";
                if (e.kind() == Errc::io || e.kind() == Errc::protocol || e.kind() == Errc::timeout) throw;
                rc = exit_code(e.kind());
            }
        }
    };

    if (cmd == "ls") {
        if (a.pos.size() != 1) throw UsageError("ls takes no arguments");
        auto entries = session->list();
        // An empty list says so: on a terminal on stdout; otherwise on stderr (unless --quiet),
        // so that stdout stays exactly one line per file for scripts.
        if (entries.empty()) {
            if (isatty(STDOUT_FILENO)) std::cout << "no files\n";
            else if (!a.flag.count("--quiet")) std::cerr << "sfts: no files\n";
        }
        for (const auto& e : entries) {
            char when[32];
            std::time_t t = static_cast<std::time_t>(e.mtime_ms / 1000);
            struct tm tm {};
            gmtime_r(&t, &tm);
            std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            std::printf("%12llu  %s  %s  %-16s %s\n", static_cast<unsigned long long>(e.size), when,
                        ossl::hex(e.sha256.data(), e.sha256.size()).c_str(), quote_name(e.uploader).c_str(),
                        quote_name(e.name).c_str());
        }
    } else if (cmd == "put") {
        if (a.opt.count("--as") && a.pos.size() != 2) throw UsageError("--as takes exactly one FILE");
        auto uploaded = [](const client::TransferResult& r) {
            std::cout << "uploaded " << quote_name(r.name) << " (" << r.size << " bytes, sha256 " << ossl::hex(r.sha256.data(), 32)
                      << ", receipt verified)\n";
        };
        auto upload_one = [&](const std::string& path) {
            std::string name = a.opt.count("--as") ? a.opt.at("--as") : basename_of(path);
            ProgressLine line(progress, quote_name(name));
            uploaded(session->upload(path, name, overwrite, std::ref(line)));
        };
        // Several small regular files go as batches: one signature and one round trip for
        // all of them (docs/protocol.md 4.4.1). A batch is all or nothing, so when the server
        // refuses one (exists, bad name, quota, role), the files of that batch go one by one
        // instead, and each gets its own line and exit status as before.
        std::vector<std::string> alone;
        std::vector<client::BatchItem> small;
        for (std::size_t i = 1; i < a.pos.size(); ++i) {
            struct stat st {};
            bool fits = a.pos.size() > 2 && ::stat(a.pos[i].c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
                        static_cast<std::uint64_t>(st.st_size) <= proto::max_batch_file_bytes;
            if (fits) small.push_back({a.pos[i], basename_of(a.pos[i])});
            else alone.push_back(a.pos[i]);
        }
        if (small.size() < 2) {
            for (const auto& it : small) alone.insert(alone.begin(), it.local_path);
            small.clear();
        }
        std::vector<std::string> fallback;
        for (std::size_t at = 0; at < small.size(); at += proto::max_batch_files) {
            std::vector<client::BatchItem> part(small.begin() + static_cast<std::ptrdiff_t>(at),
                                                small.begin() + static_cast<std::ptrdiff_t>(std::min(small.size(), at + proto::max_batch_files)));
            try {
                ProgressLine line(progress, std::to_string(part.size()) + " files");
                for (const auto& r : session->upload_batch(part, overwrite, std::ref(line))) uploaded(r);
            } catch (const Error& e) {
                // As for single files: a broken connection ends the command, anything else is
                // settled file by file.
                if (e.kind() == Errc::io || e.kind() == Errc::protocol || e.kind() == Errc::timeout) throw;
                const Errc k = e.kind();
                if (k != Errc::already_exists && k != Errc::invalid_argument && k != Errc::limit_exceeded &&
                    k != Errc::permission_denied && k != Errc::not_found)
                    std::cerr << "sfts: batch of " << part.size() << " files: " << errc_name(k) << ": " << e.what()
                              << "; trying them one by one\n";
                for (const auto& it : part) fallback.push_back(it.local_path);
            }
        }
        fallback.insert(fallback.end(), alone.begin(), alone.end());
        for (const auto& path : fallback) {
            try {
                upload_one(path);
            } catch (const Error& e) {
                std::cerr << "sfts: " << quote_name(path) << ": " << errc_name(e.kind()) << ": " << escape_text(e.what()) << "\n";
                if (e.kind() == Errc::io || e.kind() == Errc::protocol || e.kind() == Errc::timeout) throw;
                rc = exit_code(e.kind());
            }
        }
    } else if (cmd == "get") {
        std::string dir = a.opt.count("-o") ? a.opt.at("-o") : ".";
        each([&](const std::string& name) {
            ProgressLine line(progress, quote_name(name));
            auto r = session->download(name, dir + "/" + name, overwrite, std::ref(line));
            std::cout << "downloaded " << quote_name(name) << " (" << r.size << " bytes, sha256 " << ossl::hex(r.sha256.data(), 32)
                      << ", signature verified)\n";
        });
    } else if (cmd == "rm") {
        each([&](const std::string& name) {
            session->remove(name);
            std::cout << "deleted " << quote_name(name) << "\n";
        });
    } else if (cmd == "passwd") {
        session->change_password(new_password_from(a));
        std::cout << "password changed\n";
    } else if (cmd == "help") {
        std::cout << "commands your role allows on the server:";
        for (const auto& c : session->help()) std::cout << " " << c;
        std::cout << "\n";
    } else {
        throw UsageError("unknown command '" + cmd + "'");
    }
    session->close();
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    // Transfers allocate and free 1 MiB frame buffers all the time; above glibc's default
    // thresholds each one is a fresh mmap/munmap with page faults (docs/benchmarks.md, finding 3).
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    try {
        return run(parse(argc, argv));
    } catch (const UsageError& e) {
        std::cerr << "sfts: " << e.what() << "\n\n" << kUsage;
        return 1;
    } catch (const sfts::Error& e) {
        // Escaped: a message may carry a name chosen by someone else (sfts/text.hpp).
        std::cerr << "sfts: " << sfts::errc_name(e.kind()) << ": " << sfts::escape_text(e.what()) << "\n";
        return sfts::exit_code(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "sfts: internal error: " << e.what() << "\n";
        return sfts::exit_code(sfts::Errc::internal);
    }
}
