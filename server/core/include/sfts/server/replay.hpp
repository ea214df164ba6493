// Replay protection for commands: a timestamp within the window around the server's clock,
// and a nonce not seen within that window. Nonces older than the window are forgotten, which
// is safe because their timestamps would now be refused anyway.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

namespace sfts::server {

using WallClock = std::function<std::int64_t()>;  // Unix milliseconds; injectable for tests
std::int64_t system_now_ms();

class ReplayGuard {
public:
    ReplayGuard(std::chrono::seconds window, WallClock clock = system_now_ms);

    enum class Verdict { fresh, stale, replayed };
    // Records the nonce when fresh. Thread-safe. The nonce is scoped by user, so two users
    // who happen to draw the same nonce do not collide.
    Verdict check(const std::string& user, std::int64_t timestamp_ms, const std::array<std::uint8_t, 16>& nonce);

    std::size_t remembered() const;

private:
    void expire(std::int64_t now);

    std::int64_t window_ms_;
    WallClock clock_;
    mutable std::mutex mutex_;
    std::unordered_set<std::string> seen_;
    std::deque<std::pair<std::int64_t, std::string>> order_;  // (recorded at, key)
};

}  // namespace sfts::server
