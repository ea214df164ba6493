#include "transfer.hpp"

#include <algorithm>

#include "format.hpp"

namespace sfts::tui {

void RateMeter::sample(double now, std::uint64_t total_bytes) {
    if (!samples_.empty() && total_bytes < samples_.back().second) samples_.clear();  // a new count
    samples_.emplace_back(now, total_bytes);
    // Keep one sample at or before the window's start so the window is always fully covered.
    while (samples_.size() > 2 && samples_[1].first <= now - window_) samples_.pop_front();
}

double RateMeter::rate() const {
    if (samples_.size() < 2) return 0;
    double dt = samples_.back().first - samples_.front().first;
    if (dt < 0.05) return 0;  // too short to say anything
    return static_cast<double>(samples_.back().second - samples_.front().second) / dt;
}

TransferProgress::TransferProgress(std::vector<TransferItem> items, double now) : items_(std::move(items)) {
    if (items_.empty()) items_.push_back({});
    for (const auto& i : items_) total_ += i.size;
    meter_.sample(now, 0);
}

void TransferProgress::update(std::size_t index, std::uint64_t done, double now) {
    index = std::min(index, items_.size() - 1);
    if (index != index_) {
        before_ = 0;
        for (std::size_t i = 0; i < index; ++i) before_ += items_[i].size;
        index_ = index;
    }
    file_done_ = std::min(done, items_[index_].size);
    meter_.sample(now, total_done());
}

std::string TransferProgress::file_line() const {
    return progress_text(file_done_, items_[index_].size, meter_.rate());
}

std::string TransferProgress::total_line() const { return progress_text(total_done(), total_, meter_.rate()); }

}  // namespace sfts::tui
