#include "sfts/server/config.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/ini.hpp"
#include "sfts/hsm/token.hpp"

namespace sfts::server {

namespace {

using ini::parse_int;
using ini::split_list;
using Option = ini::Option<Config>;

const std::vector<Option>& options() {
    static const std::vector<Option> opts = {
        {"paths.state_dir", "/var/lib/sftsd", "CA and server certificates, CRL, databases",
         [](Config& c, const std::string&, const std::string& v) { c.pki.state_dir = v; }},
        {"hsm.module", hsm::kDefaultModulePath, "PKCS#11 module of the server's token (SoftHSM2 by default)",
         [](Config& c, const std::string&, const std::string& v) { c.pki.module_path = v; }},
        {"hsm.token", "pkcs11:token=sfts-server", "RFC 7512 URI selecting the server's token",
         [](Config& c, const std::string& k, const std::string& v) {
             try {
                 c.pki.token = hsm::ObjectUri::parse(v);
             } catch (const Error& e) {
                 fail(Errc::invalid_argument, k + ": " + e.what());
             }
             if (!c.pki.token.names_token()) fail(Errc::invalid_argument, k + ": the URI must name a token (token=...)");
         }},
        {"hsm.pin", "prompt", "where the token PIN comes from: file:PATH (mode 0600), env:NAME, credential:NAME (systemd LoadCredential=) or prompt",
         [](Config& c, const std::string& k, const std::string& v) {
             try {
                 c.pin_source = hsm::SecretSource::parse(v);
             } catch (const Error& e) {
                 fail(Errc::invalid_argument, k + ": " + e.what());
             }
         }},
        {"hsm.ca_label", "sfts-ca", "label of the CA key pair and certificate in the token",
         [](Config& c, const std::string&, const std::string& v) { c.pki.ca_label = v; }},
        {"hsm.server_label", "sfts-server", "label of the TLS server key pair and certificate in the token",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server_label = v; }},
        {"pki.ca_common_name", "sfts CA", "subject CN of the CA certificate",
         [](Config& c, const std::string&, const std::string& v) { c.pki.ca.common_name = v; }},
        {"pki.organization", "", "subject O of the CA certificate (optional)",
         [](Config& c, const std::string&, const std::string& v) { c.pki.ca.organization = v; }},
        {"pki.ca_days", "3650", "CA certificate lifetime in days",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.ca.days = parse_int(k, v, 1, 36500); }},
        {"pki.server_common_name", "localhost", "subject CN of the TLS server certificate",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server.common_name = v; }},
        {"pki.server_dns", "localhost", "comma-separated DNS names for the server certificate's SAN",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server.dns_names = split_list(v); }},
        {"pki.server_ips", "127.0.0.1", "comma-separated IP addresses for the server certificate's SAN",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server.ip_addresses = split_list(v); }},
        {"pki.server_days", "397", "TLS server certificate lifetime in days",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.server.days = parse_int(k, v, 1, 3650); }},
        {"pki.client_days", "365", "client certificate lifetime in days (enrollment, sfts renew, sfts-admin cert renew)",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.client.days = parse_int(k, v, 1, 3650); }},
        {"pki.crl_days", "7", "days until a published CRL's nextUpdate",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.crl_days = parse_int(k, v, 1, 365); }},
        {"pki.warn_days", "60", "sftsd (at start, then daily) and sfts-admin cert list warn when the server or CA certificate expires within this many days",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.warn_days = parse_int(k, v, 1, 3650); }},
        {"pki.crl_check_s", "300", "sftsd checks this often (and at start) whether the CRL is due and re-signs it in its token once less than half of pki.crl_days is left before its nextUpdate",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.crl_check_s = parse_int(k, v, 1, 86400); }},
        {"server.listen", "0.0.0.0", "address both services listen on",
         [](Config& c, const std::string& k, const std::string& v) {
             if (v.empty() || v.find_first_of(" /") != std::string::npos) fail(Errc::invalid_argument, k + ": not an address: '" + v + "'");
             c.service.listen = v;
         }},
        {"server.file_port", "8443", "TCP port of the file service (mutual TLS); 0 picks a free port",
         [](Config& c, const std::string& k, const std::string& v) { c.service.file_port = parse_int(k, v, 0, 65535); }},
        {"server.enroll_port", "8444", "TCP port of the enrollment service; 0 picks a free port",
         [](Config& c, const std::string& k, const std::string& v) { c.service.enroll_port = parse_int(k, v, 0, 65535); }},
        {"server.threads", "256", "worker threads serving connections; a logged-in session keeps its thread until it ends, so keep this >= server.max_connections",
         [](Config& c, const std::string& k, const std::string& v) { c.service.threads = parse_int(k, v, 2, 4096); }},
        {"server.max_connections", "256", "connections queued or served at once; more are refused",
         [](Config& c, const std::string& k, const std::string& v) { c.service.max_connections = parse_int(k, v, 1, 100000); }},
        {"server.thread_idle_s", "60", "seconds a worker thread may stay idle before it ends (after a burst of connections the pool shrinks back)",
         [](Config& c, const std::string& k, const std::string& v) { c.service.thread_idle_s = parse_int(k, v, 1, 86400); }},
        {"server.shutdown_grace_s", "30", "on SIGTERM, seconds running transfers may take to finish before their sessions are closed",
         [](Config& c, const std::string& k, const std::string& v) { c.service.shutdown_grace_s = parse_int(k, v, 0, 3600); }},
        {"server.ports_file", "", "if set, the bound ports are written there (for tests and scripts)",
         [](Config& c, const std::string&, const std::string& v) { c.service.ports_file = v; }},
        {"paths.storage_dir", "", "where uploaded files live (default: STATE_DIR/files)",
         [](Config& c, const std::string&, const std::string& v) { c.service.storage_dir = v; }},
        {"paths.audit_log", "", "the append-only, hash-chained audit trail (default: STATE_DIR/audit.jsonl)",
         [](Config& c, const std::string&, const std::string& v) { c.service.audit_log = v; }},
        {"log.audit_sync", "false", "true: fdatasync each audit record before going on (durable, ~200 records/s)",
         [](Config& c, const std::string& k, const std::string& v) {
             if (v != "true" && v != "false") fail(Errc::invalid_argument, k + ": must be true or false");
             c.service.audit_sync = v == "true";
         }},
        {"paths.database", "", "the SQLite user database (default: STATE_DIR/sfts.db)",
         [](Config& c, const std::string&, const std::string& v) { c.service.database = v; }},
        {"limits.handshake_timeout_ms", "10000", "deadline from accept to a completed TLS handshake",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.handshake_timeout_ms = parse_int(k, v, 100, 600000); }},
        {"limits.login_timeout_ms", "30000", "deadline from handshake to a successful login",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.login_timeout_ms = parse_int(k, v, 100, 600000); }},
        {"limits.idle_timeout_ms", "300000", "a session idle this long is closed",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.idle_timeout_ms = parse_int(k, v, 100, 86400000); }},
        {"limits.frame_timeout_ms", "30000", "deadline to receive one whole frame once it started",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.frame_timeout_ms = parse_int(k, v, 100, 600000); }},
        {"limits.max_file_gib", "64", "largest file accepted, in GiB",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.max_file_bytes = static_cast<long long>(parse_int(k, v, 1, 65536)) << 30; }},
        {"limits.replay_window_s", "30", "accepted clock difference of a command's timestamp, in seconds",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.replay_window_s = parse_int(k, v, 1, 3600); }},
        {"limits.quota_mib", "0", "per-user storage quota in MiB (0: none)",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.quota_bytes = static_cast<long long>(parse_int(k, v, 0, 1 << 30)) << 20; }},
        {"limits.quota_files", "0", "per-user number of files (0: none)",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.quota_files = parse_int(k, v, 0, 100000000); }},
        {"limits.max_transfers_per_user", "4", "uploads and downloads one user may run at once",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.max_transfers_per_user = parse_int(k, v, 1, 1000); }},
        {"limits.enroll_confirm_timeout_s", "120", "an enrollment the client has not confirmed this many seconds after the server's answer is undone (its certificate revoked) and can be redone",
         [](Config& c, const std::string& k, const std::string& v) { c.limits.enroll_confirm_timeout_s = parse_int(k, v, 1, 3600); }},
        {"abuse.failure_threshold", "3", "authentication failures from one source (IPv6: per /64) that block it",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.failure_threshold = parse_int(k, v, 1, 1000); }},
        {"abuse.failure_window_h", "24", "hours within which those failures count",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.failure_window_h = parse_int(k, v, 1, 24 * 365); }},
        {"abuse.ban_h", "24", "hours a first block lasts",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.ban_h = parse_int(k, v, 1, 24 * 365); }},
        {"abuse.ban_increment_h", "24", "hours added for each earlier block of the same source",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.ban_increment_h = parse_int(k, v, 0, 24 * 365); }},
        {"abuse.safe_list", "", "comma-separated CIDRs that are never blocked or rate-limited",
         [](Config& c, const std::string& k, const std::string& v) {
             c.abuse.safe_list = split_list(v);
             for (const auto& cidr : c.abuse.safe_list) {
                 auto slash = cidr.find('/');
                 std::string ip = cidr.substr(0, slash);
                 if (ip.empty() || ip.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos)
                     fail(Errc::invalid_argument, k + ": not a CIDR: '" + cidr + "'");
             }
         }},
        {"abuse.account_max_failures", "10", "consecutive failed logins that lock an account (NIST SP 800-63B: at most 100)",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.account_max_failures = parse_int(k, v, 1, 100); }},
        {"abuse.account_delay_ms", "500", "delay after the first failed login, doubling with each further one (at most 30 s)",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.account_delay_ms = parse_int(k, v, 0, 30000); }},
        {"abuse.connections_per_s", "5", "new connections per second per source, sustained",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.connections_per_s = parse_int(k, v, 1, 100000); }},
        {"abuse.connection_burst", "20", "new connections per source allowed in a burst",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.connection_burst = parse_int(k, v, 1, 100000); }},
        {"abuse.commands_per_s", "100", "commands per second per source, sustained",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.commands_per_s = parse_int(k, v, 1, 1000000); }},
        {"abuse.command_burst", "400", "commands per source allowed in a burst",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.command_burst = parse_int(k, v, 1, 1000000); }},
        {"abuse.max_connections_per_source", "32", "connections open at once from one source",
         [](Config& c, const std::string& k, const std::string& v) { c.abuse.max_connections_per_source = parse_int(k, v, 1, 100000); }},
        {"auth.scram_iterations", "600000", "PBKDF2 iterations of new password verifiers",
         [](Config& c, const std::string& k, const std::string& v) { c.auth.scram_iterations = parse_int(k, v, 4096, 100000000); }},
        {"auth.min_password_length", "8", "minimum password length in characters (NIST SP 800-63B)",
         [](Config& c, const std::string& k, const std::string& v) { c.auth.min_password_length = parse_int(k, v, 8, 64); }},
        {"auth.allow_unbound_scram", "false", "true: also accept plain SCRAM-SHA-256 logins, not bound to the TLS session (by default only SCRAM-SHA-256-PLUS with tls-exporter); the audit trail records the mechanism of every login",
         [](Config& c, const std::string& k, const std::string& v) {
             if (v != "true" && v != "false") fail(Errc::invalid_argument, k + ": must be true or false");
             c.auth.allow_unbound_scram = v == "true";
         }},
        {"auth.password_blocklist", "", "file of extra forbidden passwords, one per line",
         [](Config& c, const std::string&, const std::string& v) { c.auth.password_blocklist = v; }},
        {"auth.site_secret", "prompt", "the site-wide enrollment secret: file:PATH (0600), env:NAME, credential:NAME, prompt, or none",
         [](Config& c, const std::string& k, const std::string& v) {
             if (v == "none") {
                 c.auth.site_secret_enabled = false;
                 return;
             }
             c.auth.site_secret_enabled = true;
             try {
                 c.auth.site_secret = hsm::SecretSource::parse(v);
             } catch (const Error& e) {
                 fail(Errc::invalid_argument, k + ": " + e.what());
             }
         }},
        {"log.file", "", "log file (rotated daily, 10 kept); empty: standard error",
         [](Config& c, const std::string&, const std::string& v) { c.log.file = v; }},
        {"log.level", "information", "fatal, critical, error, warning, notice, information, debug or trace",
         [](Config& c, const std::string& k, const std::string& v) {
             static const std::set<std::string> levels = {"fatal", "critical", "error", "warning", "notice",
                                                          "information", "debug", "trace"};
             if (!levels.count(v)) fail(Errc::invalid_argument, k + ": unknown level '" + v + "'");
             c.log.level = v;
         }},
    };
    return opts;
}

}  // namespace

std::string Config::defaults_ini() { return ini::defaults_file(options()); }

namespace {

void resolve_paths(Config& c) {
    if (c.service.storage_dir.empty()) c.service.storage_dir = c.pki.state_dir + "/files";
    if (c.service.database.empty()) c.service.database = c.pki.state_dir + "/sfts.db";
    if (c.service.audit_log.empty()) c.service.audit_log = c.pki.state_dir + "/audit.jsonl";
}

}  // namespace

Config default_config() {
    Config c;
    ini::apply_defaults(c, options());
    resolve_paths(c);
    return c;
}

std::string loose_state_modes(const Config& c) {
    // second: follow a symbolic link (the state directory may well be one; the others are
    // opened O_NOFOLLOW, which refuses a link with its own message).
    std::vector<std::pair<std::string, bool>> paths = {{c.pki.state_dir, true}, {c.service.storage_dir, false},
                                                       {c.service.audit_log, false}};
    for (const auto& db : {c.service.database, c.pki.registry_path()})
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) paths.emplace_back(db + suffix, false);
    std::string out;
    for (const auto& [path, follow] : paths) {
        struct stat st {};
        if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0) continue;  // made 0600/0700 later
        if (S_ISLNK(st.st_mode) || (st.st_mode & 077) == 0) continue;
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        out += (out.empty() ? "" : ", ") + path + " is " + (S_ISDIR(st.st_mode) ? "a directory " : "") + "mode " + mode;
    }
    return out;
}

Config load_config(const std::string& path) {
    Config c;
    ini::apply_defaults(c, options());
    c.source_path = path;
    try {
        ini::apply_file(c, options(), path);
    } catch (const Error& e) {
        // Name the file too when the option table's message names only the option.
        std::string what = e.what();
        if (what.rfind(path, 0) == 0) throw;
        fail(e.kind(), path + ": " + what);
    }
    resolve_paths(c);
    return c;
}

}  // namespace sfts::server
