#include "pane.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace sfts::tui {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

int rank(const Entry& e) { return e.name == ".." ? 0 : e.dir ? 1 : 2; }

}  // namespace

bool matches_filter(std::string_view name, std::string_view filter) {
    if (filter.empty()) return true;
    if (filter.find_first_of("*?[") != std::string_view::npos)
        return ::fnmatch(std::string(filter).c_str(), std::string(name).c_str(), FNM_CASEFOLD) == 0;
    return lower(name).find(lower(filter)) != std::string::npos;
}

void Pane::set_entries(std::vector<Entry> entries) {
    std::string keep = current() ? current()->name : std::string();
    entries_ = std::move(entries);
    std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a.name < b.name;
    });
    std::set<std::string> still;
    for (const auto& e : entries_)
        if (marks_.count(e.name) && !e.dir) still.insert(e.name);
    marks_ = std::move(still);
    refilter();
    if (keep.empty() || !select(keep)) cursor_ = std::min(cursor_, visible_.empty() ? 0 : visible_.size() - 1);
}

void Pane::set_filter(std::string filter) {
    filter_ = std::move(filter);
    refilter();
    cursor_ = 0;
    for (std::size_t i = 0; i < visible_.size(); ++i)
        if (row(i).name != "..") {
            cursor_ = i;
            break;
        }
}

void Pane::refilter() {
    visible_.clear();
    for (std::size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].name == ".." || matches_filter(entries_[i].name, filter_)) visible_.push_back(i);
    if (cursor_ >= visible_.size()) cursor_ = visible_.empty() ? 0 : visible_.size() - 1;
}

void Pane::move(long delta) {
    if (visible_.empty()) return;
    long last = static_cast<long>(visible_.size()) - 1;
    cursor_ = static_cast<std::size_t>(std::clamp(static_cast<long>(cursor_) + delta, 0L, last));
}

void Pane::page(int direction, std::size_t height) {
    long step = std::max(1L, static_cast<long>(height) - 1);
    move(direction < 0 ? -step : step);
}

bool Pane::select(const std::string& name) {
    for (std::size_t i = 0; i < visible_.size(); ++i)
        if (row(i).name == name) {
            cursor_ = i;
            return true;
        }
    return false;
}

bool Pane::toggle_mark() {
    const Entry* e = current();
    if (!e || e->dir) return false;
    if (!marks_.erase(e->name)) marks_.insert(e->name);
    move(1);
    return true;
}

std::vector<Entry> Pane::selection() const {
    std::vector<Entry> out;
    if (!marks_.empty()) {
        for (const auto& e : entries_)
            if (marks_.count(e.name)) out.push_back(e);
        return out;
    }
    if (const Entry* e = current(); e && !e->dir) out.push_back(*e);
    return out;
}

std::size_t Pane::top(std::size_t height) const {
    if (height == 0) return top_;
    if (cursor_ < top_) top_ = cursor_;
    if (cursor_ >= top_ + height) top_ = cursor_ + 1 - height;
    // After the list shrank (filter, delete), use the space below instead of showing blank rows.
    if (visible_.size() <= height) top_ = 0;
    else if (top_ + height > visible_.size()) top_ = visible_.size() - height;
    return top_;
}

}  // namespace sfts::tui
