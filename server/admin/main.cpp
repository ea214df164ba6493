// sfts-admin: the operator's tool. Secrets come from file:, env: or a no-echo prompt, never argv.
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sfts/audit/audit_log.hpp"
#include "sfts/db/database.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/pki/authority.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/server/abuse.hpp"
#include "sfts/server/config.hpp"
#include "sfts/text.hpp"
#include "sfts/server/context.hpp"

namespace {

using namespace sfts;

constexpr const char* kUsage = R"(usage: sfts-admin [--config FILE] COMMAND [ARGS]

  token init --label LABEL [--module PATH] [--so-pin SRC] [--pin SRC]
                             initialise a token (a SoftHSM2 slot or a blank card) and its user PIN
  token list [--module PATH] list the tokens a PKCS#11 module offers
  init [--force]             create the server PKI (CA + TLS keys inside the configured token,
                             certificates, CRL, registry in the state directory)
  cert list [--within DAYS]  every certificate issued: expiry, days left and state; valid client
                             certificates expiring within DAYS (default 30) say "expiring soon"
  cert issue --csr FILE --out FILE [--force]
                             validate a PEM CSR and issue a client certificate for its CN,
                             which must be an existing user (--force: any valid name; audited)
  cert revoke SERIAL [--reason N]
                             revoke a certificate and publish a new CRL
  cert renew SERIAL|--user NAME [--days N] [--out FILE] [--cert FILE]
                             re-sign the public key of a client certificate with a new serial
                             and a fresh validity (pki.client_days, or N days), revoke the old
                             serial (superseded) and publish a new CRL; the new certificate goes
                             to FILE or stdout, for the user to install with 'sfts cert install'.
                             The user's key never leaves their token, so this cannot make a new
                             key: users renew with a new key themselves with 'sfts renew'.
                             --cert supplies the old certificate if the registry has no copy
  cert renew-server          a new server TLS key in the token and a certificate for it from the
                             same CA (clients need nothing); the old key is kept as
                             '<server_label>-previous' for running servers; restart sftsd to switch
  crl publish                sign and write a fresh CRL
  user list                  users, roles and state (disabled, locked by failed logins)
  user add NAME [--role ROLE]
                             create an account (no password yet: set at first login)
  user role NAME ROLE        change a user's role
  user disable|enable NAME   lock or unlock an account
  user expire NAME           force a password change at next login
  user unlock NAME           clear the failed-login count of a locked account
  user delete NAME           remove an account
  user show NAME             one account: role, permissions, password and lock state
  role list                  roles and their permissions
  role create NAME PERM...   a new role with these permissions (see role list for names)
  role set NAME PERM...      replace a role's permissions
  role delete NAME           remove a role no user has
  enrollment create USER [--hours N]
                             a one-time enrollment token bound to USER (default 72 h);
                             its secret is printed once and stored only sealed by a key
                             derived in the server token (needs the token PIN)
  enrollment list            tokens and their state
  enrollment revoke ID       withdraw an unused token
  block list                 blocked sources, with reason and expiry
  block add ADDRESS [--hours N] [--reason TEXT]
                             block an IP address (IPv6: its /64)
  block remove ADDRESS       lift a block (the offense is still remembered)
  audit verify [--file PATH] check the audit trail's hash chain (default: the configured one)
  config defaults            print every configuration option with its default

SRC is where a secret comes from: file:PATH (mode 0600), env:NAME, credential:NAME
($CREDENTIALS_DIRECTORY/NAME, systemd LoadCredential=), or prompt (the default).
The configuration file is --config, else $SFTS_CONFIG, else /etc/sftsd/sftsd.conf when present.
"--" ends the options: what follows is positional even if it starts with '-'.
)";

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> opts;  // --name value
    std::map<std::string, bool> flags;        // --name
};

const std::map<std::string, bool> kTakesValue = {
    {"--config", true}, {"--label", true}, {"--module", true}, {"--so-pin", true}, {"--pin", true},
    {"--csr", true},    {"--out", true},    {"--cert", true},   {"--reason", true}, {"--force", false}, {"--help", false},
    {"--role", true},   {"--hours", true}, {"--file", true}, {"--user", true}, {"--days", true},
    {"--within", true},
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Args parse(int argc, char** argv) {
    Args a;
    bool options_end = false;  // after "--" every argument is positional, even "--x" or "-rf"
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (!options_end && s == "--") {
            options_end = true;
        } else if (!options_end && s.rfind("--", 0) == 0) {
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

std::string date(std::time_t t) { return pki::utc_string(t); }

int token_cmd(const Args& a, const server::Config& cfg) {
    const auto& p = a.positional;
    std::string module = opt(a, "--module", cfg.pki.module_path);
    if (p.size() == 2 && p[1] == "list") {
        auto m = hsm::Module::load(module);
        for (const auto& t : m->tokens())
            std::cout << "slot " << t.slot << "  " << (t.initialized ? "'" + escape_text(t.label) + "'" : "(uninitialised)")
                      << "  " << escape_text(t.manufacturer) << " / " << escape_text(t.model) << "  serial "
                      << escape_text(t.serial) << "\n";
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

// What an administrator changes is part of the audit trail too.
// Who: the account of our uid (not $USER, which may be unset or anything), and the
// administrator behind sudo when there is one.
std::string admin_name() {
    std::string me;
    if (const struct passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name && *pw->pw_name)
        me = pw->pw_name;
    else
        me = "uid " + std::to_string(::getuid());
    const char* sudo = std::getenv("SUDO_USER");
    if (sudo && *sudo && me == "root" && sudo != me) return std::string(sudo) + " via sudo";
    return me;
}

void admin_audit(const server::Config& cfg, std::string_view event, std::vector<audit::Field> fields) {
    fields.insert(fields.begin(), {"by", "sfts-admin (" + admin_name() + ")"});
    audit::AuditLog log(cfg.service.audit_log);
    log.append(event, fields);
}

// An account is locked once its consecutive failed logins reach abuse.account_max_failures
// (the server's rule, AbuseGuard::account_locked) and stays so until `user unlock`.
bool locked(const db::User& u, const server::Config& cfg) { return u.failed_logins >= cfg.abuse.account_max_failures; }

std::string account_state(const db::User& u, const server::Config& cfg) {
    std::string s = u.disabled ? "disabled" : "active";
    if (locked(u, cfg)) s = u.disabled ? "disabled, locked" : "locked";
    return s;
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
                std::printf("%-24s %-14s %-9s %s%s\n", escape_text(u.name).c_str(), escape_text(u.role).c_str(),
                            u.verifier ? "set" : "none", account_state(u, cfg).c_str(),
                            u.must_change_password ? ", must change password" : "");
            return 0;
        }
        if (sub == "add") {
            need(3);
            if (!pki::valid_username(p[2])) fail(Errc::invalid_argument, "user name must be 1-64 of a-z 0-9 . _ -");
            db::User u;
            u.name = p[2];
            u.role = opt(a, "--role", "registered");
            u.created_ms = server::system_now_ms();
            db->create_user(u);
            admin_audit(cfg, "user_add", {{"user", u.name}, {"role", u.role}});
            std::cout << "user '" << u.name << "' created with role '" << u.role
                      << "'; enroll with: sfts-admin enrollment create " << u.name << "\n";
            return 0;
        }
        if (sub == "role") {
            need(4);
            db->set_role(p[2], p[3]);
            admin_audit(cfg, "role_change", {{"user", p[2]}, {"role", p[3]}});
            std::cout << "user '" << p[2] << "' now has role '" << p[3] << "'\n";
            return 0;
        }
        if (sub == "disable" || sub == "enable") {
            need(3);
            db->set_disabled(p[2], sub == "disable");
            admin_audit(cfg, "user_" + sub, {{"user", p[2]}});
            std::cout << "user '" << p[2] << "' " << sub << "d\n";
            return 0;
        }
        if (sub == "expire") {
            need(3);
            db->set_must_change_password(p[2], true);
            admin_audit(cfg, "user_expire", {{"user", p[2]}});
            std::cout << "user '" << p[2] << "' must change the password at next login\n";
            return 0;
        }
        if (sub == "unlock") {
            need(3);
            if (!db->find_user(p[2])) fail(Errc::not_found, "no user " + p[2]);
            db->reset_login_failures(p[2]);
            admin_audit(cfg, "user_unlock", {{"user", p[2]}});
            std::cout << "user '" << p[2] << "' unlocked\n";
            return 0;
        }
        if (sub == "show") {
            need(3);
            auto u = db->find_user(p[2]);
            if (!u) fail(Errc::not_found, "no user " + p[2]);
            std::cout << "user:        " << u->name << "\n"
                      << "role:        " << u->role << "\n"
                      << "permissions:";
            for (auto perm : db->permissions(u->role)) std::cout << " " << db::permission_name(perm);
            std::cout << "\n"
                      << "state:       " << account_state(*u, cfg)
                      << (u->failed_logins > 0 ? ", " + std::to_string(u->failed_logins) + " failed login(s) in a row, last " +
                                                     date(static_cast<std::time_t>(u->last_failed_ms / 1000))
                                               : "")
                      << "\n";
            if (locked(*u, cfg))
                std::cout << "lock:        locked until an administrator unlocks it (sfts-admin user unlock " << u->name
                          << "); abuse.account_max_failures is " << cfg.abuse.account_max_failures << "\n";
            std::cout
                      << "password:    " << (u->verifier ? "set" : "none")
                      << (u->must_change_password ? ", must change at next login" : "") << "\n"
                      << "created:     " << date(static_cast<std::time_t>(u->created_ms / 1000)) << "\n";
            if (u->password_changed_ms > 0)
                std::cout << "changed:     " << date(static_cast<std::time_t>(u->password_changed_ms / 1000)) << "\n";
            return 0;
        }
        if (sub == "delete") {
            need(3);
            db->delete_user(p[2]);
            admin_audit(cfg, "user_delete", {{"user", p[2]}});
            std::cout << "user '" << p[2] << "' deleted\n";
            return 0;
        }
        throw UsageError("user: unknown subcommand '" + sub + "'");
    }
    if (p[0] == "block") {
        auto source_of = [](const std::string& text) {
            Poco::Net::IPAddress ip;
            if (!Poco::Net::IPAddress::tryParse(text, ip)) fail(Errc::invalid_argument, "not an IP address: '" + text + "'");
            return server::AbuseGuard::source_key(ip);
        };
        std::int64_t now = server::system_now_ms();
        if (sub == "list") {
            need(2);
            std::printf("%-28s %-8s %-22s %s\n", "SOURCE", "OFFENSES", "UNTIL", "REASON");
            for (const auto& b : db->list_blocks()) {
                std::string until = b.until_ms > now ? date(static_cast<std::time_t>(b.until_ms / 1000)) : "lifted/expired";
                std::printf("%-28s %-8d %-22s %s\n", escape_text(b.source).c_str(), b.offenses, until.c_str(),
                            escape_text(b.reason).c_str());
            }
            return 0;
        }
        if (sub == "add") {
            need(3);
            std::string hours_s = opt(a, "--hours", "24");
            int hours = 0;
            try {
                hours = std::stoi(hours_s);
            } catch (const std::exception&) {
            }
            if (hours < 1 || hours > 24 * 3650 || std::to_string(hours) != hours_s) throw UsageError("--hours must be 1 to 87600");
            std::string src = source_of(p[2]);
            auto prev = db->find_block(src);
            db::Block b{src, now + std::int64_t{hours} * 3600 * 1000, opt(a, "--reason", "blocked by an administrator"),
                        prev ? prev->offenses + 1 : 1, now};
            db->put_block(b);
            admin_audit(cfg, "block", {{"source", src}, {"detail", b.reason}, {"hours", hours_s}});
            std::cout << "blocked " << src << " for " << hours << " h\n";
            return 0;
        }
        if (sub == "remove") {
            need(3);
            std::string src = source_of(p[2]);
            if (!db->lift_block(src)) fail(Errc::not_found, src + " is not blocked");
            admin_audit(cfg, "unblock", {{"source", src}});
            std::cout << "unblocked " << src << "\n";
            return 0;
        }
        throw UsageError("block: unknown subcommand '" + sub + "'");
    }
    if (p[0] == "role" && (sub == "create" || sub == "set")) {
        if (p.size() < 4) throw UsageError("role " + sub + ": NAME and at least one permission");
        std::set<db::Permission> perms;
        std::string names;
        for (std::size_t i = 3; i < p.size(); ++i) {
            auto perm = db::permission_from_name(p[i]);
            if (!perm) fail(Errc::invalid_argument, "unknown permission '" + p[i] + "' (see sfts-admin role list)");
            perms.insert(*perm);
            names += (names.empty() ? "" : " ") + p[i];
        }
        if (sub == "create") {
            if (!db::valid_role_name(p[2])) fail(Errc::invalid_argument, "role name must be 1-32 of a-z 0-9 _ -");
            db->create_role(p[2], perms);
        } else {
            db->set_permissions(p[2], perms);
        }
        admin_audit(cfg, "role_" + sub, {{"role", p[2]}, {"detail", names}});
        std::cout << "role '" << p[2] << "' " << (sub == "create" ? "created" : "set") << ": " << names << "\n";
        return 0;
    }
    if (p[0] == "role" && sub == "delete") {
        need(3);
        db->delete_role(p[2]);
        admin_audit(cfg, "role_delete", {{"role", p[2]}});
        std::cout << "role '" << p[2] << "' deleted\n";
        return 0;
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
            // The secret is stored sealed under a key derived in the server token (docs/operations.md,
            // "What the user database holds"), so this needs the token PIN.
            auto pin = token_pin(cfg);
            pki::Authority ca(cfg.pki, pin);
            auto seal = server::enrollment_seal(ca);
            std::int64_t now = server::system_now_ms();
            auto t = db->create_enrollment_token(p[2], now + std::int64_t{hours} * 3600 * 1000, now, seal);
            admin_audit(cfg, "enrollment_token_create", {{"user", p[2]}, {"token_id", t.token.id}, {"hours", hours_s}});
            // The secret is shown once, here, for the administrator to hand over out of band.
            std::cout << "token-id " << t.token.id << "\nsecret   " << t.secret.view() << "\nfor user '" << p[2]
                      << "', valid " << hours << " h, single use:\n  sfts enroll --user " << p[2] << " --token-id "
                      << t.token.id << "\n";
            return 0;
        }
        if (sub == "list") {
            need(2);
            std::int64_t now = server::system_now_ms();
            for (const auto& t : db->list_enrollment_tokens())
                std::cout << escape_text(t.id) << "  " << escape_text(t.username) << "  "
                          << (t.used_ms ? "used"
                              : t.voided ? "void (from before secrets were sealed: create a new one)"
                              : t.expires_ms <= now ? "expired"
                                                    : "open")
                          << "\n";
            return 0;
        }
        if (sub == "revoke") {
            need(3);
            db->revoke_enrollment_token(p[2]);
            admin_audit(cfg, "enrollment_token_revoke", {{"token_id", p[2]}});
            std::cout << "token " << p[2] << " revoked\n";
            return 0;
        }
    }
    throw UsageError(p[0] + ": unknown subcommand '" + sub + "'");
}

int int_opt(const Args& a, const std::string& name, int def, int lo, int hi) {
    auto it = a.opts.find(name);
    if (it == a.opts.end()) return def;
    int v = 0;
    try {
        v = std::stoi(it->second);
    } catch (const std::exception&) {
        v = lo - 1;
    }
    if (v < lo || v > hi || std::to_string(v) != it->second)
        throw UsageError(name + " must be " + std::to_string(lo) + " to " + std::to_string(hi));
    return v;
}

// The operator cannot make a new key for a user (it lives in their token), so renewal here
// re-signs the key of the current certificate: new serial, fresh validity, old serial revoked.
int cert_renew(const Args& a, const server::Config& cfg) {
    const auto& p = a.positional;
    bool by_user = a.opts.count("--user") > 0;
    if (p.size() != (by_user ? 2u : 3u)) throw UsageError("cert renew: give a SERIAL or --user NAME (not both)");
    int days = int_opt(a, "--days", 0, 1, 3650);
    std::string out = opt(a, "--out");
    if (!out.empty() && file_exists(out)) fail(Errc::already_exists, out + " exists; refusing to overwrite");
    auto pin = token_pin(cfg);
    pki::Authority ca(cfg.pki, pin);
    std::string serial;
    if (by_user) {
        // The user's newest certificate that is not revoked (an expired one may be renewed too).
        std::string user = a.opts.at("--user");
        for (const auto& c : ca.registry().list())
            if (c.kind == "client" && c.subject == user && !c.revoked_at) serial = c.serial_hex;
        if (serial.empty()) fail(Errc::not_found, "user '" + user + "' has no unrevoked client certificate");
    } else {
        serial = p[2];
    }
    auto rec = ca.registry().find(serial);
    if (!rec) fail(Errc::not_found, "no certificate with serial " + serial + " was issued here");
    if (rec->kind != "client") fail(Errc::invalid_argument, "certificate " + serial + " is a " + rec->kind + " certificate, not a client's");
    if (rec->revoked_at) fail(Errc::already_exists, "certificate " + serial + " is revoked; enroll the user again instead");
    ossl::X509Ptr old;
    if (a.opts.count("--cert")) {
        old = ossl::x509_from_pem(read_file(a.opts.at("--cert"), 64 * 1024));
        if (ossl::serial_hex(old.get()) != serial) fail(Errc::invalid_argument, a.opts.at("--cert") + " is not certificate " + serial);
        if (X509_verify(old.get(), X509_get0_pubkey(ca.ca_cert())) != 1) {
            ossl::drain_errors();
            fail(Errc::integrity, a.opts.at("--cert") + " was not signed by this CA");
        }
    } else {
        old = ca.registry().certificate(serial);
        if (!old)
            fail(Errc::not_found, "the registry keeps no copy of certificate " + serial +
                                      " (issued before it kept them): pass --cert FILE with the user's client.crt");
    }
    pki::ValidatedCsr key{rec->subject, ossl::EvpPkeyPtr(X509_get_pubkey(old.get()))};
    if (!key.public_key) ossl::fail_ossl(Errc::integrity, "certificate " + serial + " has no readable key");
    auto cert = ca.renew_client(key, serial, days);
    std::string fresh = ossl::serial_hex(cert.get());
    admin_audit(cfg, "certificate_renew", {{"user", rec->subject}, {"serial", serial}, {"new_serial", fresh}});
    std::string note = "renewed '" + rec->subject + "': certificate " + fresh + " valid until " +
                       date(static_cast<std::time_t>(ca.registry().find(fresh)->not_after)) + ", same key; " + serial +
                       " revoked (superseded), CRL written to " + cfg.pki.crl_path() +
                       "\nthe user installs it with: sfts cert install FILE\n";
    if (out.empty()) {
        std::cerr << note;
        std::cout << ossl::to_pem(cert.get());
    } else {
        write_file_atomic(out, ossl::to_pem(cert.get()), 0644);
        std::cout << note << "written to " << out << "\n";
    }
    return 0;
}

// The CRL's own dates under the table: sftsd re-signs it once half of pki.crl_days is left, so
// a list past that point (for longer than a check interval) means it could not.
void print_crl_state(const server::Config& cfg, std::time_t now) {
    const std::string path = cfg.pki.crl_path();
    auto st = pki::read_crl_state(path);
    if (!st.readable) {
        std::printf("\nWARNING: the CRL %s cannot be read (%s): sftsd refuses every client certificate; "
                    "re-sign it with 'sfts-admin crl publish'\n", path.c_str(), st.problem.c_str());
        return;
    }
    long long left = static_cast<long long>(st.next_update) - static_cast<long long>(now);
    std::printf("\nCRL %s: signed %s, next update %s (%s)\n", path.c_str(), date(st.last_update).c_str(),
                date(st.next_update).c_str(),
                left <= 0 ? "expired" : (std::to_string(left / 86400) + " days " + std::to_string(left % 86400 / 3600) + " h left").c_str());
    if (left <= 0)
        std::printf("WARNING: the CRL expired on %s: sftsd refuses every client certificate until it is re-signed. "
                    "sftsd re-signs it by itself when it can: see its log for why it could not, or run "
                    "'sfts-admin crl publish'\n", date(st.next_update).c_str());
    else if (left < cfg.pki.crl_refresh_margin_s())
        std::printf("warning: the CRL is due for re-signing (less than half of pki.crl_days = %d left); sftsd re-signs it "
                    "within pki.crl_check_s = %d s when it runs and can; if this persists, see its log\n",
                    cfg.pki.crl_days, cfg.pki.crl_check_s);
}

// The server and CA certificates in use, with a warning within pki.warn_days.
void print_server_state(const server::Config& cfg, std::time_t now) {
    auto one = [&](const char* what, const std::string& path, const char* todo) {
        try {
            auto cert = ossl::x509_from_pem(read_file(path));
            std::time_t na = pki::to_time_t(X509_get0_notAfter(cert.get()));
            long long left = (static_cast<long long>(na) - static_cast<long long>(now)) / 86400;
            std::printf("%s certificate %s (%s): not after %s\n", what, ossl::serial_hex(cert.get()).c_str(), path.c_str(),
                        date(na).c_str());
            if (na <= now)
                std::printf("WARNING: the %s certificate has expired: %s\n", what, todo);
            else if (left < cfg.pki.warn_days)
                std::printf("warning: the %s certificate expires in %lld days (pki.warn_days = %d): %s\n", what, left,
                            cfg.pki.warn_days, todo);
        } catch (const Error& e) {
            std::printf("WARNING: the %s certificate %s cannot be read: %s\n", what, path.c_str(), e.what());
        }
    };
    one("server", cfg.pki.server_cert_path(), "run 'sfts-admin cert renew-server', then restart sftsd on every node");
    one("CA", cfg.pki.ca_cert_path(), "follow the CA rollover plan in docs/operations.md");
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
        // The state directory is private whatever mode it was made with (sftsd refuses to
        // start on one that group or others may enter).
        make_dirs(cfg.pki.state_dir, 0700);
        if (::chmod(cfg.pki.state_dir.c_str(), 0700) != 0)
            fail(Errc::io, "cannot make " + cfg.pki.state_dir + " private (chmod 700): " + std::strerror(errno));
        auto r = pki::init_pki(cfg.pki, pin, a.flags.count("--force") > 0);
        std::cout << "server PKI created\n" << r.summary;
        return 0;
    }
    if (p[0] == "cert" && p.size() == 2 && p[1] == "list") {
        int within = int_opt(a, "--within", 30, 0, 3650);
        pki::Registry reg(cfg.pki.registry_path());
        std::time_t now = std::time(nullptr);
        std::cout << "SERIAL                            KIND    SUBJECT              NOT AFTER             DAYS  STATE\n";
        for (const auto& c : reg.list()) {
            long long left = (static_cast<long long>(c.not_after) - static_cast<long long>(now)) / 86400;
            std::string state = c.revoked_at                 ? "revoked " + date(*c.revoked_at) +
                                                                   (c.never_confirmed() ? " (enrollment never confirmed)" : "")
                                : c.pending()                ? "pending (enrollment not confirmed yet)"
                                : c.not_after <= now         ? "expired"
                                : c.kind == "client" && left < within ? "valid, expiring soon"
                                : c.kind != "client" && left < cfg.pki.warn_days ? "valid, EXPIRING SOON"
                                                                      : "valid";
            std::string days = c.not_after <= now ? "-" : std::to_string(left);
            std::printf("%-33s %-7s %-20s %-21s %5s  %s\n", c.serial_hex.c_str(), c.kind.c_str(), escape_text(c.subject).c_str(),
                        date(c.not_after).c_str(), days.c_str(), state.c_str());
        }
        print_crl_state(cfg, now);
        print_server_state(cfg, now);
        return 0;
    }
    if (p[0] == "cert" && p.size() == 2 && p[1] == "renew-server") {
        auto pin = token_pin(cfg);
        pki::Authority ca(cfg.pki, pin);
        auto cert = ca.renew_server(pin);
        std::string serial = ossl::serial_hex(cert.get());
        admin_audit(cfg, "server_certificate_renew", {{"serial", serial}});
        std::cout << "server certificate renewed: serial " << serial << ", valid until "
                  << date(pki::to_time_t(X509_get0_notAfter(cert.get()))) << ", written to " << cfg.pki.server_cert_path()
                  << "\nits key is '" << cfg.pki.server_label << "' in the token (new, non-extractable); the previous one is kept as '"
                  << cfg.pki.server_label << "-previous' for servers still running with it\n"
                  << "clients need nothing (same CA); restart sftsd on every node to switch: systemctl restart sftsd\n";
        return 0;
    }
    if (p[0] == "cert" && p.size() >= 2 && p[1] == "renew") return cert_renew(a, cfg);
    if (p[0] == "cert" && p.size() == 2 && p[1] == "issue") {
        std::string csr_path = required(a, "--csr"), out = required(a, "--out");
        if (file_exists(out)) fail(Errc::already_exists, out + " exists; refusing to overwrite");
        auto req = ossl::req_from_pem(read_file(csr_path, 64 * 1024));
        auto csr = pki::validate_csr(req.get());
        // A certificate is a login for its CN: one for a name that is no account is a mistake
        // (or someone preparing one) unless the administrator says so.
        bool forced = false;
        if (!db::Database::open_sqlite(cfg.service.database)->find_user(csr.username)) {
            if (!a.flags.count("--force"))
                fail(Errc::not_found, "no user '" + csr.username + "': add it first (sfts-admin user add " + csr.username +
                                          ") or pass --force to issue a certificate for a name that is no user");
            forced = true;
        }
        auto pin = token_pin(cfg);
        pki::Authority ca(cfg.pki, pin);
        auto cert = ca.issue_client(csr);
        std::string serial = ossl::serial_hex(cert.get());
        std::vector<audit::Field> fields = {{"user", csr.username}, {"serial", serial}};
        if (forced) fields.push_back({"forced", "no such user"});
        admin_audit(cfg, "certificate_issue", fields);
        write_file_atomic(out, ossl::to_pem(cert.get()), 0644);
        std::cout << "issued certificate for '" << csr.username << "'" << (forced ? " (no such user: forced)" : "")
                  << ", serial " << serial << ", written to " << out << "\n";
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
        admin_audit(cfg, "certificate_revoke", {{"serial", p[2]}, {"reason", std::to_string(reason)}});
        std::cout << "revoked " << p[2] << "; CRL written to " << cfg.pki.crl_path() << "\n";
        return 0;
    }
    if (p[0] == "user" || p[0] == "role" || p[0] == "enrollment" || p[0] == "block") return database_cmd(a, cfg);
    if (p[0] == "audit" && p.size() == 2 && p[1] == "verify") {
        std::string path = opt(a, "--file", cfg.service.audit_log);
        auto r = audit::verify(path);
        std::cout << path << ": " << r.records << " records, last " << r.last_seq << ":" << r.last_hash << "\n";
        for (const auto& problem : r.problems) std::cout << "  " << escape_text(problem) << "\n";
        if (!r.ok) fail(Errc::integrity, "the audit trail has been tampered with or damaged");
        std::cout << "chain intact (records removed from the end show only against an anchor in the server log)\n";
        return 0;
    }
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
    // Whatever the caller's umask, the state files we create (databases, audit trail, CRL) are
    // for the service account only.
    ::umask(::umask(0) | 077);
    try {
        return run(parse(argc, argv));
    } catch (const UsageError& e) {
        std::cerr << "sfts-admin: " << e.what() << "\n\n" << kUsage;
        return 1;
    } catch (const sfts::Error& e) {
        std::cerr << "sfts-admin: " << sfts::errc_name(e.kind()) << ": " << sfts::escape_text(e.what()) << "\n";
        return sfts::exit_code(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "sfts-admin: internal error: " << e.what() << "\n";
        return sfts::exit_code(sfts::Errc::internal);
    }
}
