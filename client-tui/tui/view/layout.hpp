// Where each part of the main screen goes for a terminal size. Pure arithmetic, so the
// controller can ask how many rows a page is without touching curses.
#pragma once

namespace sfts::tui {

constexpr int kMinRows = 24;
constexpr int kMinCols = 80;

struct Layout {
    int rows = 0, cols = 0;
    int header_h = 2;
    int pane_y = 2, pane_h = 0, left_w = 0, right_w = 0;
    int log_y = 0, log_h = 0;  // log_h == 0: hidden
    int status_y = 0;          // the status line: what just happened
    int bar_y = 0;
    int list_rows = 0;  // entries a pane shows at once
    bool too_small = false;
};

Layout main_layout(int rows, int cols, bool show_log);

// Columns of a pane row, in terminal columns; 0 hides the column.
struct Columns {
    int name = 0, size = 6, time = 11, uploader = 0;
};
Columns pane_columns(int inner_width, bool remote);

}  // namespace sfts::tui
