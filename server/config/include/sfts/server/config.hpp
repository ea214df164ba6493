// sftsd's configuration: one INI file, every option named, defaulted and validated here.
// An invalid value stops the program with a message naming the option.
#pragma once

#include <string>
#include <vector>

#include "sfts/hsm/pin.hpp"
#include "sfts/pki/authority.hpp"

namespace sfts::server {

struct ServiceConfig {
    std::string listen = "0.0.0.0";    // address both services bind to
    int file_port = 8443;              // mutual TLS file service (0: any free port)
    int enroll_port = 8444;            // enrollment service (0: any free port)
    int threads = 64;                  // connection worker threads
    int max_connections = 256;         // queued + active connections before new ones are refused
    int thread_idle_s = 60;            // an idle worker thread ends after this long
    int shutdown_grace_s = 30;         // on SIGTERM: how long running sessions may finish before they are closed
    std::string storage_dir;           // the files (default: state_dir/files)
    std::string database;              // the user database (default: state_dir/sfts.db)
    std::string ports_file;            // when set, "file=PORT enroll=PORT" is written once listening
    std::string audit_log;             // the tamper-evident audit trail (default: state_dir/audit.jsonl)
    bool audit_sync = false;           // fdatasync every audit record (about 200 records/s)
};

struct LimitsConfig {
    int handshake_timeout_ms = 10000;  // TCP accept to completed TLS handshake
    int login_timeout_ms = 30000;      // handshake to successful login
    int idle_timeout_ms = 300000;      // between commands
    int frame_timeout_ms = 30000;      // to receive one whole frame once it started
    long long max_file_bytes = 64LL << 30;
    int replay_window_s = 30;          // accepted clock difference; nonces remembered this long
    long long quota_bytes = 0;         // per user, 0: none
    long long quota_files = 0;         // per user, 0: none
    int max_transfers_per_user = 4;    // uploads and downloads at once
    int enroll_confirm_timeout_s = 120;  // an enrollment not confirmed this long after its result is undone
};

struct AbuseOptions {
    int failure_threshold = 3;
    int failure_window_h = 24;
    int ban_h = 24;
    int ban_increment_h = 24;
    std::vector<std::string> safe_list;  // CIDRs never blocked
    int account_max_failures = 10;
    int account_delay_ms = 500;
    int connections_per_s = 5;
    int connection_burst = 20;
    int commands_per_s = 100;
    int command_burst = 400;
    int max_connections_per_source = 32;
};

struct AuthConfig {
    int scram_iterations = 600000;
    int min_password_length = 8;
    bool allow_unbound_scram = false;  // true: plain SCRAM-SHA-256 (no channel binding) accepted too
    std::string password_blocklist;    // extra file of forbidden passwords, one per line
    bool site_secret_enabled = true;   // false: enrollment only with one-time tokens
    hsm::SecretSource site_secret = hsm::SecretSource::parse("prompt");
};

struct LogConfig {
    std::string file;                  // empty: standard error
    std::string level = "information"; // fatal, critical, error, warning, notice, information, debug
};

struct Config {
    pki::PkiConfig pki;
    hsm::SecretSource pin_source = hsm::SecretSource::parse("prompt");
    ServiceConfig service;
    LimitsConfig limits;
    AbuseOptions abuse;
    AuthConfig auth;
    LogConfig log;
    std::string source_path;  // the file it came from, or empty for defaults

    // Every option with its default, as a commented INI file (docs and `sfts-admin config`).
    static std::string defaults_ini();
};

// Loads path (INI). Unknown sections or keys and bad values are invalid_argument naming the
// option, e.g. "pki.ca_days: must be an integer from 1 to 36500".
Config load_config(const std::string& path);

// The state paths (state directory, storage directory, databases with their -wal/-shm/-journal
// files, audit trail) that exist and are accessible by group or others, e.g.
// "/var/lib/sftsd/sfts.db is mode 0644"; empty when all are private.
std::string loose_state_modes(const Config& c);

// The built-in defaults, for a machine without a configuration file.
Config default_config();

}  // namespace sfts::server
