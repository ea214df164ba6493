#include "screen.hpp"

#include "draw.hpp"
#include "theme.hpp"

namespace sfts::tui {

void Screen::rebuild(const UiState& ui) {
    header_.reset();
    left_.reset();
    right_.reset();
    log_.reset();
    body_.reset();
    status_.reset();
    bar_.reset();
    kind_ = ui.screen;
    layout_ = main_layout(term_.rows(), term_.cols(), ui.show_log);
    const Layout& l = layout_;
    if (l.too_small) return;
    bar_ = make_window(1, l.cols, l.bar_y, 0);
    if (ui.screen == UiState::Screen::connect) {
        header_ = make_window(1, l.cols, 0, 0);
        body_ = make_window(l.rows - 2, l.cols, 1, 0);
        return;
    }
    header_ = make_window(l.header_h, l.cols, 0, 0);
    left_ = make_window(l.pane_h, l.left_w, l.pane_y, 0);
    right_ = make_window(l.pane_h, l.right_w, l.pane_y, l.left_w);
    if (l.log_h) log_ = make_window(l.log_h, l.cols, l.log_y, 0);
    status_ = make_window(1, l.cols, l.status_y, 0);
}

void Screen::draw_too_small() {
    werase(stdscr);
    mvwaddstr(stdscr, 0, 0, "sfts-tui needs at least 80x24;");
    mvwaddstr(stdscr, 1, 0, ("this is " + std::to_string(term_.cols()) + "x" + std::to_string(term_.rows())).c_str());
    wnoutrefresh(stdscr);
}

void Screen::render(const UiState& ui, bool force) {
    bool log_changed = (log_ != nullptr) != ui.show_log;
    if (force || !built_ || kind_ != ui.screen || layout_.rows != term_.rows() || layout_.cols != term_.cols() ||
        (ui.screen == UiState::Screen::main && log_changed)) {
        rebuild(ui);
        built_ = true;
        clearok(curscr, TRUE);  // repaint every cell: after a resize the terminal's picture is unknown
    }
    // stdscr is the background: refreshing it here keeps the input call (wget_wch on stdscr)
    // from repainting it over the windows.
    wnoutrefresh(stdscr);
    if (layout_.too_small) {
        draw_too_small();
        doupdate();
        return;
    }
    for (WINDOW* w : {header_.get(), left_.get(), right_.get(), log_.get(), body_.get(), status_.get(), bar_.get()})
        if (w) werase(w);
    if (ui.screen == UiState::Screen::connect) draw_connect(ui);
    else draw_main(ui);
    for (WINDOW* w : {header_.get(), left_.get(), right_.get(), log_.get(), body_.get(), status_.get(), bar_.get()})
        if (w) wnoutrefresh(w);
    if (ui.transfer && ui.screen == UiState::Screen::main) draw_transfer(*ui.transfer);
    for (const auto& d : ui.dialogs) draw_dialog(*d);
    doupdate();
}

}  // namespace sfts::tui
