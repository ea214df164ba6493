// Drawing primitives shared by the screens: clipped text, frames, the function-key bar.
#pragma once

#include <curses.h>

#include <functional>
#include <string>
#include <string_view>

#include "../model/keymap.hpp"

namespace sfts::tui {

// Every text reaches the terminal through these: what is not safe to draw (a control character
// the controller forgot to escape) is escaped here (terminal_safe).
// text at (y, x), clipped to width columns and padded to fill them.
void put(WINDOW* w, int y, int x, std::string_view text, int width, attr_t a = A_NORMAL);
// text at (y, x), clipped at the window's right edge (or one column before, inside a frame).
void put_clipped(WINDOW* w, int y, int x, std::string_view text, attr_t a = A_NORMAL, bool framed = false);
// A box with a title in the top border.
void frame(WINDOW* w, attr_t border, std::string_view title = {}, attr_t title_attr = A_NORMAL);
// The bottom row: "1Help 2Passwd ..." in equal slots, as mc draws it.
// A key whose action enabled() refuses is left out (the role may not use it).
void draw_function_bar(WINDOW* w, int y, Context context, const std::function<bool(Action)>& enabled = {});
std::string text_bar(double fraction, int width);  // "[#####.....]"

}  // namespace sfts::tui
