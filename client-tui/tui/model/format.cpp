#include "format.hpp"

#include "sfts/text.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace sfts::tui {

namespace {

// v with one decimal or none, then the unit.
std::string fmt(bool decimal, double v, const char* unit) {
    char buf[32];
    if (decimal) std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
    else std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
    return buf;
}

}  // namespace

std::string human_size(std::uint64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        ++u;
    }
    return fmt(true, v, (std::string(" ") + units[u]).c_str());
}

std::string compact_size(std::uint64_t bytes) {
    static const char* units[] = {"", "K", "M", "G", "T", "P"};
    if (bytes < 1024) return std::to_string(bytes);
    double v = static_cast<double>(bytes) / 1024;
    int u = 1;
    while (v >= 1000 && u < 5) {  // 1000, not 1024: keeps the text within 3 digits plus a unit
        v /= 1024;
        ++u;
    }
    return v < 10 ? fmt(true, std::floor(v * 10) / 10, units[u]) : fmt(false, std::floor(v), units[u]);
}

std::string eta_text(std::optional<double> seconds) {
    if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 99 * 3600.0) return "--:--";
    auto s = static_cast<long>(std::ceil(*seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

int percent(std::uint64_t done, std::uint64_t total) {
    if (total == 0 || done >= total) return 100;
    return static_cast<int>(static_cast<long double>(done) * 100 / static_cast<long double>(total));
}

std::string progress_text(std::uint64_t done, std::uint64_t total, double bytes_per_second) {
    std::optional<double> eta;
    if (done >= total) eta = 0.0;
    else if (bytes_per_second > 0) eta = static_cast<double>(total - done) / bytes_per_second;
    std::string rate = bytes_per_second > 0 ? human_size(static_cast<std::uint64_t>(bytes_per_second)) + "/s" : "-- B/s";
    return human_size(done) + " / " + human_size(total) + " - " + std::to_string(percent(done, total)) + "% - ETA " +
           eta_text(eta) + " - " + rate;
}

std::string short_time(std::int64_t epoch_s) {
    std::time_t t = static_cast<std::time_t>(epoch_s);
    struct tm tm {};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%m-%d %H:%M", &tm);
    return buf;
}

std::string long_time(std::int64_t epoch_s) {
    std::time_t t = static_cast<std::time_t>(epoch_s);
    struct tm tm {};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

// One escaping for the whole product (common/): the screen shows a name exactly as the logs do.
std::string printable(std::string_view s) { return sfts::escape_text(s); }

bool has_unsafe_text(std::string_view s) { return sfts::has_unsafe_text(s); }

std::string terminal_safe(std::string_view s) { return has_unsafe_text(s) ? printable(s) : std::string(s); }

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace sfts::tui
