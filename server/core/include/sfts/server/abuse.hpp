// Abuse resistance in one place: authentication failures per source (IPv6 grouped by /64) lead
// to blocks that live in the database (a restart forgives no one; servers sharing the database
// share them); token-bucket rate limits and caps on connections and commands; failed logins per
// account with growing delays and a cap (NIST SP 800-63B 5.2.2). A safe list is never blocked.
#pragma once

#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sfts/db/database.hpp"
#include "sfts/server/replay.hpp"

namespace sfts::server {

struct Cidr {
    std::array<std::uint8_t, 16> net{};  // IPv4 stored as IPv4-mapped IPv6
    int prefix = 0;                      // in IPv6 bits (an IPv4 /24 is stored as /120)

    static Cidr parse(const std::string& text);  // "10.0.0.0/8", "::1", "2001:db8::/32"; invalid_argument
    bool contains(const Poco::Net::IPAddress& a) const;
};

struct AbuseConfig {
    int failure_threshold = 3;                 // failures within the window that block a source
    std::int64_t failure_window_ms = 24LL * 3600 * 1000;
    std::int64_t ban_ms = 24LL * 3600 * 1000;  // first block
    std::int64_t ban_increment_ms = 24LL * 3600 * 1000;  // added for each earlier block of the source
    std::vector<Cidr> safe_list;
    int account_max_failures = 10;             // consecutive failed logins before the account locks (NIST: <= 100)
    std::int64_t account_delay_base_ms = 500;  // delay after the n-th failure: base * 2^(n-1), at most 30 s
    double connections_per_s = 5;              // per source, sustained
    double connection_burst = 20;
    double commands_per_s = 100;               // per source, sustained
    double command_burst = 400;
    int max_connections_per_source = 32;
    int max_connections = 256;                 // all sources together
};

class AbuseGuard {
public:
    AbuseGuard(db::Database& db, AbuseConfig cfg, WallClock clock, Poco::Logger& log);

    // "192.0.2.7" for IPv4 (and IPv4-mapped IPv6), "2001:db8:1:2::/64" for IPv6.
    static std::string source_key(const Poco::Net::IPAddress& a);

    bool safe(const Poco::Net::IPAddress& a) const;

    // Called at accept, before any TLS work: the reason when the connection must be refused
    // (all connections at the global cap, the source blocked, at its cap or over its rate).
    std::optional<std::string> admit_connection(const Poco::Net::IPAddress& a);
    // Called when a worker takes the connection up: the reason when a cap is reached (per source,
    // all sources); otherwise it counts as open until connection_closed().
    std::optional<std::string> open_connection(const Poco::Net::IPAddress& a);
    void connection_closed(const Poco::Net::IPAddress& a);

    // Command rate per source; false means refuse with limit_exceeded (and it scores).
    bool admit_command(const Poco::Net::IPAddress& a);

    // An authentication failure (bad enrollment proof or token, failed login, unknown user,
    // rate-limit violation). Blocks the source once it reaches the threshold. Returns true if
    // this failure caused a block.
    bool failure(const Poco::Net::IPAddress& a, const std::string& kind);

    // Accounts.
    bool account_locked(const db::User& u) const { return u.failed_logins >= cfg_.account_max_failures; }
    std::chrono::milliseconds login_delay(int failed_logins) const;
    int login_failed(const std::string& user);  // returns the new consecutive count
    void login_succeeded(const db::User& u);

    // Hook for the audit trail (event, source, detail); set once at start-up.
    std::function<void(const std::string& event, const std::string& source, const std::string& detail)> on_event;

    const AbuseConfig& config() const { return cfg_; }

private:
    struct Bucket {
        double tokens;
        std::int64_t at_ms;
    };
    bool take(std::map<std::string, Bucket>& buckets, const std::string& key, double rate, double burst);
    std::optional<std::string> blocked(const std::string& source_key) const;  // the reason, if blocked now

    db::Database& db_;
    AbuseConfig cfg_;
    WallClock clock_;
    Poco::Logger& log_;
    std::mutex mutex_;
    std::map<std::string, Bucket> conn_buckets_, cmd_buckets_;
    std::map<std::string, int> open_;  // open connections per source
    int open_total_ = 0;
};

}  // namespace sfts::server
