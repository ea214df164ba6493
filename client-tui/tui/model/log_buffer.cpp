#include "log_buffer.hpp"

#include <ctime>

#include "format.hpp"

namespace sfts::tui {

void LogBuffer::add(std::int64_t epoch_s, const std::string& text) {
    std::time_t t = static_cast<std::time_t>(epoch_s);
    struct tm tm {};
    localtime_r(&t, &tm);
    char stamp[16];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    lines_.push_back(std::string(stamp) + " " + printable(text));
    while (lines_.size() > max_) lines_.pop_front();
}

}  // namespace sfts::tui
