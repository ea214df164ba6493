// sfts-admin: the operator's tool. Secrets come from file:, env: or a no-echo prompt, never argv.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "sfts/db/database.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/pki/authority.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/server/config.hpp"

namespace {

using namespace sfts;

constexpr const char* kUsage = R"(usage: sfts-admin [--config FILE] COMMAND [ARGS]

  token init --label LABEL [--module PATH] [--so-pin SRC] [--pin SRC]
                             initialise a token (a SoftHSM2 slot or a blank card) and its user PIN
  token list [--module PATH] list the tokens a PKCS#11 module offers
  init [--force]             create the server PKI (CA + TLS keys inside the configured token,
                             certificates, CRL, registry in the state directory)
  cert list                  every certificate issued, with its state
  cert issue --csr FILE --out FILE
                             validate a PEM CSR and issue a client certificate for its CN
  cert revoke SERIAL [--reason N]
                             revoke a certificate and publish a new CRL
  crl publish                sign and write a fresh CRL
  user list                  users, roles and state
  user add NAME [--role ROLE]
                             create an account (no password yet: set at first login)
  user role NAME ROLE        change a user's role
  user disable|enable NAME   lock or unlock an account
  user expire NAME           force a password change at next login
  user delete NAME           remove an account
  role list                  roles and their permissions
  enrollment create USER [--hours N]
                             a one-time enrollment token bound to USER (default 72 h);
                             its secret is printed once
  enrollment list            tokens and their state
  enrollment revoke ID       withdraw an unused token
  config defaults            print every configuration option with its default

SRC is where a secret comes from: file:PATH (mode 0600), env:NAME, or prompt (the default).
The configuration file is --config, else $SFTS_CONFIG, else /etc/sftsd/sftsd.conf when present.
)";

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> opts;  // --name value
    std::map<std::string, bool> flags;        // --name
};

const std::map<std::string, bool> kTakesValue = {
    {"--config", true}, {"--label", true}, {"--module", true}, {"--so-pin", true}, {"--pin", true},
    {"--csr", true},    {"--out", true},   {"--reason", true}, {"--force", false}, {"--help", false},
    {"--role", true},   {"--hours", true},
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s.rfind("--", 0) == 0) {
            auto it = kTakesValue.find(s);
            if (it == kTakesValue.end()) throw UsageError("unknown option " + s);
            if (it->second) {
                if (i + 1 >= argc) throw UsageError(s + " needs a value");
                a.opts[s] = argv[++i];
            } else {
                a.flags[s] = true;
            }
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

server::Config config_for(const Args& a) {
    if (auto it = a.opts.find("--config"); it != a.opts.end()) return server::load_config(it->second);
    if (const char* env = std::getenv("SFTS_CONFIG"); env && *env) return server::load_config(env);
    if (file_exists("/etc/sftsd/sftsd.conf")) return server::load_config("/etc/sftsd/sftsd.conf");
    return server::default_config();
}

std::string opt(const Args& a, const std::string& name, const std::string& def = {}) {
    auto it = a.opts.find(name);
    return it == a.opts.end() ? def : it->second;
}

std::string required(const Args& a, const std::string& name) {
    auto it = a.opts.find(name);
    if (it == a.opts.end()) throw UsageError(name + " is required");
    return it->second;
}

Secret token_pin(const server::Config& cfg) {
    return hsm::read_secret(cfg.pin_source, "PIN for token '" + cfg.pki.token.to_string() + "': ");
}

std::string date(std::time_t t) {
    char buf[32];
    struct tm tm {};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

int token_cmd(const Args& a, const server::Config& cfg) {
    const auto& p = a.positional;
    std::string module = opt(a, "--module", cfg.pki.module_path);
    if (p.size() == 2 && p[1] == "list") {
        auto m = hsm::Module::load(module);
        for (const auto& t : m->tokens())
            std::cout << "slot " << t.slot << "  " << (t.initialized ? "'" + t.label + "'" : "(uninitialised)")
                      << "  " << t.manufacturer << " / " << t.model << "  serial " << t.serial << "\n";
        return 0;
    }
    if (p.size() == 2 && p[1] == "init") {
        std::string label = required(a, "--label");
        auto so = hsm::read_secret(hsm::SecretSource::parse(opt(a, "--so-pin", "prompt")), "New SO PIN: ");
        auto user = hsm::read_secret(hsm::SecretSource::parse(opt(a, "--pin", "prompt")), "New user PIN: ");
        hsm::Module::load(module)->init_token(label, so, user);
        std::cout << "initialised token '" << label << "' in " << module << "\n";
        return 0;
    }
    throw UsageError("token: expected 'init' or 'list'");
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Users, roles and enrollment tokens live in the server's database; sfts-admin works on it
// directly (SQLite in WAL mode lets it do so while sftsd runs).
int database_cmd(const Args& a, const server::Config& cfg) {
    const auto& p = a.positional;
    auto db = db::Database::open_sqlite(cfg.service.database);
    auto need = [&](std::size_t n) {
        if (p.size() != n) throw UsageError(p[0] + " " + (p.size() > 1 ? p[1] : "") + ": wrong number of arguments");
    };
    if (p.size() < 2) throw UsageError(p[0] + ": missing subcommand");
    const std::string& sub = p[1];
    if (p[0] == "user") {
        if (sub == "list") {
            need(2);
            std::printf("%-24s %-14s %-9s %s\n", "USER", "ROLE", "PASSWORD", "STATE");
            for (const auto& u : db->list_users())
                std::printf("%-24s %-14s %-9s %s%s\n", u.name.c_str(), u.role.c_str(), u.verifier ? "set" : "none",
                            u.disabled ? "disabled" : "active", u.must_change_password ? ", must change password" : "");
            return 0;
        }
        if (sub == "add") {
            need(3);
            if (!pki::valid_username(p[2])) fail(Errc::invalid_argument, "user name must be 1-64 of a-z 0-9 . _ -");
            db::User u;
            u.name = p[2];
            u.role = opt(a, "--role", "registered");
            u.created_ms = now_ms();
            db->create_user(u);
            std::cout << "user '" << u.name << "' created with role '" << u.role
                      << "'; enroll with: sfts-admin enrollment create " << u.name << "\n";
            return 0;
        }
        if (sub == "role") {
            need(4);
            db->set_role(p[2], p[3]);
            std::cout << "user '" << p[2] << "' now has role '" << p[3] << "'\n";
            return 0;
        }
        if (sub == "disable" || sub == "enable") {
            need(3);
            db->set_disabled(p[2], sub == "disable");
            std::cout << "user '" << p[2] << "' " << sub << "d\n";
            return 0;
        }
        if (sub == "expire") {
            need(3);
            db->set_must_change_password(p[2], true);
            std::cout << "user '" << p[2] << "' must change the password at next login\n";
            return 0;
        }
        if (sub == "delete") {
            need(3);
            db->delete_user(p[2]);
            std::cout << "user '" << p[2] << "' deleted\n";
            return 0;
        }
        throw UsageError("user: unknown subcommand '" + sub + "'");
    }
    if (p[0] == "role" && sub == "list") {
        need(2);
        for (const auto& r : db->roles()) {
            std::cout << r << ":";
            for (auto perm : db->permissions(r)) std::cout << " " << db::permission_name(perm);
            std::cout << "\n";
        }
        return 0;
    }
    if (p[0] == "enrollment") {
        if (sub == "create") {
            need(3);
            std::string hours_s = opt(a, "--hours", "72");
            int hours = 0;
            try {
                hours = std::stoi(hours_s);
            } catch (const std::exception&) {
            }
            if (hours < 1 || hours > 24 * 90 || std::to_string(hours) != hours_s) throw UsageError("--hours must be 1 to 2160");
            std::int64_t now = now_ms();
            auto t = db->create_enrollment_token(p[2], now + std::int64_t{hours} * 3600 * 1000, now);
            // The secret is shown once, here, for the administrator to hand over out of band.
            std::cout << "token-id " << t.token.id << "\nsecret   " << t.secret.view() << "\nfor user '" << p[2]
                      << "', valid " << hours << " h, single use:\n  sfts enroll --user " << p[2] << " --token-id "
                      << t.token.id << "\n";
            return 0;
        }
        if (sub == "list") {
            need(2);
            std::int64_t now = now_ms();
            for (const auto& t : db->list_enrollment_tokens())
                std::cout << t.id << "  " << t.username << "  "
                          << (t.used_ms ? "used" : (t.expires_ms <= now ? "expired" : "open")) << "\n";
            return 0;
        }
        if (sub == "revoke") {
            need(3);
            db->revoke_enrollment_token(p[2]);
            std::cout << "token " << p[2] << " revoked\n";
            return 0;
        }
    }
    throw UsageError(p[0] + ": unknown subcommand '" + sub + "'");
}

int run(const Args& a) {
    const auto& p = a.positional;
    if (a.flags.count("--help") || p.empty()) {
        std::cout << kUsage;
        return p.empty() && !a.flags.count("--help") ? 1 : 0;
    }
    if (p[0] == "config" && p.size() == 2 && p[1] == "defaults") {
        std::cout << server::Config::defaults_ini();
        return 0;
    }
    server::Config cfg = config_for(a);
    if (p[0] == "token") return token_cmd(a, cfg);
    if (p[0] == "init" && p.size() == 1) {
        auto pin = token_pin(cfg);
        auto r = pki::init_pki(cfg.pki, pin, a.flags.count("--force") > 0);
        std::cout << "server PKI created\n" << r.summary;
        return 0;
    }
    if (p[0] == "cert" && p.size() == 2 && p[1] == "list") {
        pki::Registry reg(cfg.pki.registry_path());
        std::cout << "SERIAL                            KIND    SUBJECT              NOT AFTER             STATE\n";
        for (const auto& c : reg.list()) {
            std::printf("%-33s %-7s %-20s %-21s %s\n", c.serial_hex.c_str(), c.kind.c_str(), c.subject.c_str(),
                        date(c.not_after).c_str(),
                        c.revoked_at ? ("revoked " + date(*c.revoked_at)).c_str() : "valid");
        }
        return 0;
    }
    if (p[0] == "cert" && p.size() == 2 && p[1] == "issue") {
        std::string csr_path = required(a, "--csr"), out = required(a, "--out");
        if (file_exists(out)) fail(Errc::already_exists, out + " exists; refusing to overwrite");
        auto req = ossl::req_from_pem(read_file(csr_path, 64 * 1024));
        auto csr = pki::validate_csr(req.get());
        auto pin = token_pin(cfg);
        pki::Authority ca(cfg.pki, pin);
        auto cert = ca.issue_client(csr);
        write_file_atomic(out, ossl::to_pem(cert.get()));
        std::cout << "issued certificate for '" << csr.username << "', serial " << ossl::serial_hex(cert.get())
                  << ", written to " << out << "\n";
        return 0;
    }
    if (p[0] == "cert" && p.size() == 3 && p[1] == "revoke") {
        int reason = 0;
        std::string r = opt(a, "--reason", "0");
        if (r.size() != 1 || r[0] < '0' || r[0] > '9' || r == "7") throw UsageError("--reason must be a CRLReason code 0-9 (not 7)");
        reason = r[0] - '0';
        auto pin = token_pin(cfg);
        pki::Authority ca(cfg.pki, pin);
        ca.revoke(p[2], reason);
        std::cout << "revoked " << p[2] << "; CRL written to " << cfg.pki.crl_path() << "\n";
        return 0;
    }
    if (p[0] == "user" || p[0] == "role" || p[0] == "enrollment") return database_cmd(a, cfg);
    if (p[0] == "crl" && p.size() == 2 && p[1] == "publish") {
        auto pin = token_pin(cfg);
        pki::Authority ca(cfg.pki, pin);
        ca.publish_crl();
        std::cout << "CRL written to " << cfg.pki.crl_path() << "\n";
        return 0;
    }
    throw UsageError("unknown command '" + p[0] + "'");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const UsageError& e) {
        std::cerr << "sfts-admin: " << e.what() << "\n\n" << kUsage;
        return 1;
    } catch (const sfts::Error& e) {
        std::cerr << "sfts-admin: " << sfts::errc_name(e.kind()) << ": " << e.what() << "\n";
        return sfts::exit_code(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "sfts-admin: internal error: " << e.what() << "\n";
        return sfts::exit_code(sfts::Errc::internal);
    }
}
