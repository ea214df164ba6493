#include "sfts/server/replay.hpp"

namespace sfts::server {

std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ReplayGuard::ReplayGuard(std::chrono::seconds window, WallClock clock)
    : window_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(window).count()), clock_(std::move(clock)) {}

ReplayGuard::Verdict ReplayGuard::check(const std::string& user, std::int64_t timestamp_ms,
                                        const std::array<std::uint8_t, 16>& nonce) {
    std::int64_t now = clock_();
    if (timestamp_ms < now - window_ms_ || timestamp_ms > now + window_ms_) return Verdict::stale;
    std::string key = user;
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
    std::lock_guard lock(mutex_);
    expire(now);
    if (!seen_.insert(key).second) return Verdict::replayed;
    order_.emplace_back(now, std::move(key));
    return Verdict::fresh;
}

void ReplayGuard::expire(std::int64_t now) {
    // A nonce must be kept as long as a command carrying it could still be fresh: its
    // timestamp may lie up to one window ahead of the clock, so keep two windows.
    while (!order_.empty() && order_.front().first < now - 2 * window_ms_) {
        seen_.erase(order_.front().second);
        order_.pop_front();
    }
}

std::size_t ReplayGuard::remembered() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
}

}  // namespace sfts::server
