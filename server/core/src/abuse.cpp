#include "sfts/server/abuse.hpp"

#include <algorithm>
#include <cstring>

#include "sfts/error.hpp"

namespace sfts::server {

namespace {

std::array<std::uint8_t, 16> as_v6(const Poco::Net::IPAddress& a) {
    std::array<std::uint8_t, 16> out{};
    if (a.family() == Poco::Net::IPAddress::IPv4) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, a.addr(), 4);
    } else {
        std::memcpy(out.data(), a.addr(), 16);
    }
    return out;
}

bool v4_mapped(const std::array<std::uint8_t, 16>& b) {
    for (int i = 0; i < 10; ++i)
        if (b[static_cast<std::size_t>(i)] != 0) return false;
    return b[10] == 0xff && b[11] == 0xff;
}

}  // namespace

Cidr Cidr::parse(const std::string& text) {
    auto slash = text.find('/');
    std::string addr = text.substr(0, slash);
    Poco::Net::IPAddress ip;
    if (!Poco::Net::IPAddress::tryParse(addr, ip)) fail(Errc::invalid_argument, "not an IP address: '" + text + "'");
    bool v4 = ip.family() == Poco::Net::IPAddress::IPv4;
    int max = v4 ? 32 : 128;
    int prefix = max;
    if (slash != std::string::npos) {
        std::string p = text.substr(slash + 1);
        try {
            std::size_t used = 0;
            prefix = std::stoi(p, &used);
            if (used != p.size()) prefix = -1;
        } catch (const std::exception&) {
            prefix = -1;
        }
        if (prefix < 0 || prefix > max) fail(Errc::invalid_argument, "bad prefix length in '" + text + "'");
    }
    Cidr c;
    c.net = as_v6(ip);
    c.prefix = v4 ? prefix + 96 : prefix;
    for (int bit = c.prefix; bit < 128; ++bit) c.net[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
    return c;
}

bool Cidr::contains(const Poco::Net::IPAddress& a) const {
    auto b = as_v6(a);
    for (int bit = 0; bit < prefix; ++bit) {
        auto i = static_cast<std::size_t>(bit / 8);
        std::uint8_t m = static_cast<std::uint8_t>(0x80 >> (bit % 8));
        if ((b[i] & m) != (net[i] & m)) return false;
    }
    return true;
}

AbuseGuard::AbuseGuard(db::Database& db, AbuseConfig cfg, WallClock clock, Poco::Logger& log)
    : db_(db), cfg_(std::move(cfg)), clock_(std::move(clock)), log_(log) {}

std::string AbuseGuard::source_key(const Poco::Net::IPAddress& a) {
    auto b = as_v6(a);
    if (v4_mapped(b)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        return buf;
    }
    // One host commonly owns a whole /64: counting per address would let it rotate addresses.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%x:%x:%x:%x::/64", (b[0] << 8) | b[1], (b[2] << 8) | b[3], (b[4] << 8) | b[5],
                  (b[6] << 8) | b[7]);
    return buf;
}

bool AbuseGuard::safe(const Poco::Net::IPAddress& a) const {
    return std::any_of(cfg_.safe_list.begin(), cfg_.safe_list.end(), [&](const Cidr& c) { return c.contains(a); });
}

bool AbuseGuard::take(std::map<std::string, Bucket>& buckets, const std::string& key, double rate, double burst) {
    std::int64_t now = clock_();
    auto [it, fresh] = buckets.try_emplace(key, Bucket{burst, now});
    Bucket& b = it->second;
    if (!fresh) {
        double elapsed = static_cast<double>(std::max<std::int64_t>(0, now - b.at_ms)) / 1000.0;
        b.tokens = std::min(burst, b.tokens + elapsed * rate);
        b.at_ms = now;
    }
    // Keep the maps small: full buckets carry no information.
    if (buckets.size() > 10000)
        std::erase_if(buckets, [&](const auto& kv) { return kv.second.tokens >= burst && kv.first != key; });
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

std::optional<std::string> AbuseGuard::admit_connection(const Poco::Net::IPAddress& a) {
    bool is_safe = safe(a);
    std::string src = source_key(a);
    // The caps are checked again when a worker takes the connection up (open_connection); here
    // they keep a source that is already at its cap out of the queue, where its connections
    // would wait for a worker in front of everyone else's (tests/load: a flood of them filled
    // the queue and the dispatcher dropped a logged-in user's new connection).
    bool at_cap = false;
    {
        std::lock_guard lock(mutex_);
        if (open_total_ >= cfg_.max_connections) return std::string("server connection limit reached");
        if (!is_safe) {
            auto it = open_.find(src);
            at_cap = it != open_.end() && it->second >= cfg_.max_connections_per_source;
        }
    }
    if (is_safe) return std::nullopt;
    if (auto why = blocked(src)) return why;
    // Not scored here: scoring writes to the database, and this thread accepts for everyone.
    if (at_cap) return std::string("too many connections from this source");
    bool ok;
    {
        std::lock_guard lock(mutex_);
        ok = take(conn_buckets_, src, cfg_.connections_per_s, cfg_.connection_burst);
    }
    if (ok) return std::nullopt;
    failure(a, "connection rate");
    return std::string("connection rate limit exceeded");
}

std::optional<std::string> AbuseGuard::blocked(const std::string& src) const {
    auto block = db_.find_block(src);
    if (block && block->until_ms > clock_()) return "blocked (" + block->reason + ")";
    return std::nullopt;
}

std::optional<std::string> AbuseGuard::open_connection(const Poco::Net::IPAddress& a) {
    std::string src = source_key(a);
    bool is_safe = safe(a);
    // Connections queued before their source was blocked are refused before any TLS work.
    if (!is_safe)
        if (auto why = blocked(src)) return why;
    {
        std::lock_guard lock(mutex_);
        if (open_total_ >= cfg_.max_connections) return std::string("server connection limit reached");
        if (is_safe || open_[src] < cfg_.max_connections_per_source) {
            ++open_[src];
            ++open_total_;
            return std::nullopt;
        }
    }
    failure(a, "connection cap");
    return std::string("too many connections from this source");
}

void AbuseGuard::connection_closed(const Poco::Net::IPAddress& a) {
    std::string src = source_key(a);
    std::lock_guard lock(mutex_);
    if (auto it = open_.find(src); it != open_.end() && --it->second <= 0) open_.erase(it);
    if (open_total_ > 0) --open_total_;
}

bool AbuseGuard::admit_command(const Poco::Net::IPAddress& a) {
    if (safe(a)) return true;
    bool ok;
    {
        std::lock_guard lock(mutex_);
        ok = take(cmd_buckets_, source_key(a), cfg_.commands_per_s, cfg_.command_burst);
    }
    if (!ok) failure(a, "rate");
    return ok;
}

bool AbuseGuard::failure(const Poco::Net::IPAddress& a, const std::string& kind) {
    std::string src = source_key(a);
    if (safe(a)) {
        log_.information("authentication failure (" + kind + ") from safe-listed " + src + ": not counted");
        return false;
    }
    std::int64_t now = clock_();
    // A blocked source is refused at accept; what its connections that were already queued do
    // adds nothing, and each record is a synchronous database write that a flood would queue.
    if (auto current = db_.find_block(src); current && current->until_ms > now) return false;
    db_.record_auth_failure(src, kind, now);
    std::size_t n = db_.auth_failures_since(src, now - cfg_.failure_window_ms);
    if (n < static_cast<std::size_t>(cfg_.failure_threshold)) return false;
    auto previous = db_.find_block(src);
    if (previous && previous->until_ms > now) return false;  // already blocked (a racing connection)
    db::Block b;
    b.source = src;
    b.offenses = previous ? previous->offenses + 1 : 1;
    b.until_ms = now + cfg_.ban_ms + cfg_.ban_increment_ms * (b.offenses - 1);
    b.reason = std::to_string(n) + " authentication failures (last: " + kind + ")";
    b.created_ms = now;
    db_.put_block(b);
    db_.clear_auth_failures(src);
    log_.warning("blocked " + src + " for " + std::to_string((b.until_ms - now) / 1000) + " s: " + b.reason +
                 (b.offenses > 1 ? ", offense " + std::to_string(b.offenses) : ""));
    if (on_event) on_event("block", src, b.reason);
    return true;
}

std::chrono::milliseconds AbuseGuard::login_delay(int failed_logins) const {
    if (failed_logins <= 0) return std::chrono::milliseconds(0);
    std::int64_t d = cfg_.account_delay_base_ms << std::min(failed_logins - 1, 16);
    return std::chrono::milliseconds(std::min<std::int64_t>(d, 30000));
}

int AbuseGuard::login_failed(const std::string& user) {
    int n = db_.record_login_failure(user, clock_());
    if (n == cfg_.account_max_failures) {
        log_.warning("account '" + user + "' locked after " + std::to_string(n) + " consecutive failed logins");
        if (on_event) on_event("account_locked", "", user);
    }
    return n;
}

void AbuseGuard::login_succeeded(const db::User& u) {
    if (u.failed_logins != 0) db_.reset_login_failures(u.name);
}

}  // namespace sfts::server
