#include "layout.hpp"

#include <algorithm>

namespace sfts::tui {

Layout main_layout(int rows, int cols, bool show_log) {
    Layout l;
    l.rows = rows;
    l.cols = cols;
    l.too_small = rows < kMinRows || cols < kMinCols;
    l.bar_y = rows - 1;
    l.status_y = rows - 2;
    l.log_h = show_log ? std::max(5, rows / 4) : 0;
    l.pane_h = std::max(5, rows - l.header_h - 2 - l.log_h);
    l.log_y = l.pane_y + l.pane_h;
    l.left_w = cols / 2;
    l.right_w = cols - l.left_w;
    l.list_rows = std::max(1, l.pane_h - 4);  // borders, column titles, the selected entry's details
    return l;
}

Columns pane_columns(int inner_width, bool remote) {
    Columns c;
    c.uploader = remote ? 10 : 0;
    auto fixed = [&] {
        return 1 + (c.size ? c.size + 1 : 0) + (c.time ? c.time + 1 : 0) + (c.uploader ? c.uploader + 1 : 0);
    };
    // Drop the least useful column first; the details line under the list still shows it.
    if (inner_width - fixed() < 12) c.uploader = 0;
    if (inner_width - fixed() < 10) c.time = 0;
    if (inner_width - fixed() < 6) c.size = 0;
    c.name = std::max(1, inner_width - fixed());
    return c;
}

}  // namespace sfts::tui
