// A batch of transfers as the progress window shows it: the current file and the total, each
// with bytes, percentage, ETA and rate. Time is passed in (seconds on a steady clock), so the
// tests drive it without sleeping.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace sfts::tui {

// Bytes per second over a sliding window: follows speed changes without jumping on every chunk.
class RateMeter {
public:
    explicit RateMeter(double window_s = 3.0) : window_(window_s) {}
    void sample(double now, std::uint64_t total_bytes);
    double rate() const;  // 0 until two samples are apart

private:
    double window_;
    std::deque<std::pair<double, std::uint64_t>> samples_;
};

struct TransferItem {
    std::string name;
    std::uint64_t size = 0;
};

class TransferProgress {
public:
    TransferProgress(std::vector<TransferItem> items, double now);

    // Bytes done of item index (items before it count as finished or skipped).
    void update(std::size_t index, std::uint64_t done, double now);

    std::size_t index() const { return index_; }
    std::size_t count() const { return items_.size(); }
    const TransferItem& current() const { return items_[index_]; }
    std::uint64_t file_done() const { return file_done_; }
    std::uint64_t total_done() const { return before_ + file_done_; }
    std::uint64_t total_size() const { return total_; }
    double rate() const { return meter_.rate(); }

    std::string file_line() const;   // "X / Y - p% - ETA - rate" of the current file
    std::string total_line() const;  // the same for the whole batch

private:
    std::vector<TransferItem> items_;
    std::uint64_t total_ = 0;
    std::size_t index_ = 0;
    std::uint64_t before_ = 0;  // sizes of the items before index_
    std::uint64_t file_done_ = 0;
    RateMeter meter_;
};

}  // namespace sfts::tui
