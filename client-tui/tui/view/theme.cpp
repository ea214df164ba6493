#include "theme.hpp"

namespace sfts::tui {

namespace {

bool g_colors = false;

// Pair numbers; -1 is the terminal's default colour (use_default_colors).
enum Pair : short { p_header = 1, p_cursor, p_marked, p_dir, p_active, p_key_label, p_dialog, p_error, p_bar, p_hint };

}  // namespace

void init_theme(bool colors) {
    g_colors = colors;
    if (!colors) return;
    init_pair(p_header, COLOR_BLACK, COLOR_CYAN);
    init_pair(p_cursor, COLOR_BLACK, COLOR_CYAN);
    init_pair(p_marked, COLOR_YELLOW, -1);
    init_pair(p_dir, COLOR_BLUE, -1);
    init_pair(p_active, COLOR_CYAN, -1);
    init_pair(p_key_label, COLOR_BLACK, COLOR_CYAN);
    init_pair(p_dialog, COLOR_BLACK, COLOR_WHITE);
    init_pair(p_error, COLOR_WHITE, COLOR_RED);
    init_pair(p_bar, COLOR_BLACK, COLOR_GREEN);
    init_pair(p_hint, COLOR_YELLOW, -1);
}

attr_t style(Style s) {
    auto pair = [](Pair p) { return static_cast<attr_t>(COLOR_PAIR(p)); };
    if (!g_colors) {
        switch (s) {
            case Style::header:
            case Style::cursor:
            case Style::key_label:
            case Style::bar:
            case Style::field: return A_REVERSE;
            case Style::marked:
            case Style::frame_active:
            case Style::error: return A_BOLD;
            case Style::dir: return A_BOLD;
            case Style::cursor_inactive: return A_UNDERLINE;
            default: return A_NORMAL;
        }
    }
    switch (s) {
        case Style::normal: return A_NORMAL;
        case Style::header: return pair(p_header);
        case Style::cursor: return pair(p_cursor);
        case Style::cursor_inactive: return A_UNDERLINE;
        case Style::marked: return pair(p_marked) | A_BOLD;
        case Style::dir: return pair(p_dir) | A_BOLD;
        case Style::frame_active: return pair(p_active) | A_BOLD;
        case Style::frame: return A_NORMAL;
        case Style::key: return A_BOLD;
        case Style::key_label: return pair(p_key_label);
        case Style::dialog: return pair(p_dialog);
        case Style::error: return pair(p_error) | A_BOLD;
        case Style::bar: return pair(p_bar);
        case Style::bar_empty: return A_NORMAL;
        case Style::field: return A_REVERSE;
        case Style::hint: return pair(p_hint);
    }
    return A_NORMAL;
}

}  // namespace sfts::tui
