// Draws the whole UI from the UiState: the connect screen or the main screen, then the
// transfer window and the dialogs on top. Owns every window it draws into.
#pragma once

#include <curses.h>

#include "../model/ui_state.hpp"
#include "layout.hpp"
#include "terminal.hpp"

namespace sfts::tui {

class Screen {
public:
    explicit Screen(Terminal& term) : term_(term) {}

    // Rebuilds the windows when the size or the arrangement changed (or force), then draws
    // everything and updates the terminal once.
    void render(const UiState& ui, bool force);
    WINDOW* input() const { return stdscr; }

private:
    void rebuild(const UiState& ui);
    void draw_main(const UiState& ui);
    void draw_header(const UiState& ui);
    void draw_pane(WINDOW* w, const UiState& ui, Side side);
    void draw_log(const UiState& ui);
    void draw_connect(const UiState& ui);
    void draw_transfer(const TransferState& t);
    void draw_dialog(const Dialog& d);
    void draw_too_small();

    Terminal& term_;
    Layout layout_;
    UiState::Screen kind_ = UiState::Screen::connect;
    bool built_ = false;
    WindowPtr header_, left_, right_, log_, body_, status_, bar_;
};

}  // namespace sfts::tui
