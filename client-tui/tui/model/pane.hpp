// One side of the two-pane screen as data: the listing, the cursor, the marks and the filter.
// The view asks it what to draw; the keymap's actions change it.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "entry.hpp"

namespace sfts::tui {

// Case-insensitive substring, or a shell pattern (fnmatch) when the filter has * ? or [.
bool matches_filter(std::string_view name, std::string_view filter);

class Pane {
public:
    // Sorted: "..", directories, files, each by name. The cursor stays on the same name if it is
    // still there; marks of names that vanished are dropped.
    void set_entries(std::vector<Entry> entries);
    const std::vector<Entry>& entries() const { return entries_; }

    // ".." stays visible; the cursor moves to the first match.
    void set_filter(std::string filter);
    const std::string& filter() const { return filter_; }

    std::size_t size() const { return visible_.size(); }  // rows shown
    const Entry& row(std::size_t i) const { return entries_[visible_[i]]; }
    std::size_t cursor() const { return cursor_; }
    const Entry* current() const { return visible_.empty() ? nullptr : &row(cursor_); }

    void move(long delta);
    void home() { cursor_ = 0; }
    void end() { cursor_ = visible_.empty() ? 0 : visible_.size() - 1; }
    void page(int direction, std::size_t height);
    bool select(const std::string& name);  // false if not shown

    // Marks the current file (not a directory) and moves down, like mc's Insert.
    bool toggle_mark();
    bool marked(const std::string& name) const { return marks_.count(name) > 0; }
    std::size_t mark_count() const { return marks_.size(); }
    void clear_marks() { marks_.clear(); }

    // What F5 and F8 act on: the marked files in listing order, else the current file.
    std::vector<Entry> selection() const;

    // First row to draw in a window of height rows so the cursor is visible; scrolls minimally.
    // const: drawing remembers the scroll position but changes nothing the user sees as data.
    std::size_t top(std::size_t height) const;

private:
    void refilter();

    std::vector<Entry> entries_;
    std::vector<std::size_t> visible_;  // indices into entries_
    std::string filter_;
    std::set<std::string> marks_;
    std::size_t cursor_ = 0;
    mutable std::size_t top_ = 0;
};

}  // namespace sfts::tui
