// The log panel's lines: the most recent ones, each stamped with the wall-clock time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

namespace sfts::tui {

class LogBuffer {
public:
    explicit LogBuffer(std::size_t max_lines = 500) : max_(max_lines) {}
    void add(std::int64_t epoch_s, const std::string& text);  // "HH:MM:SS text"
    const std::deque<std::string>& lines() const { return lines_; }

private:
    std::size_t max_;
    std::deque<std::string> lines_;
};

}  // namespace sfts::tui
