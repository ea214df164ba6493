#include "draw.hpp"

#include <algorithm>

#include "../model/format.hpp"
#include "text.hpp"
#include "theme.hpp"

namespace sfts::tui {

void put(WINDOW* w, int y, int x, std::string_view text, int width, attr_t a) {
    if (width <= 0) return;
    wattrset(w, a);
    mvwaddstr(w, y, x, pad(terminal_safe(text), width).c_str());
    wattrset(w, A_NORMAL);
}

void put_clipped(WINDOW* w, int y, int x, std::string_view text, attr_t a, bool framed) {
    int width = getmaxx(w) - x - (framed ? 1 : 0);
    if (width <= 0) return;
    wattrset(w, a);
    mvwaddstr(w, y, x, clip(terminal_safe(text), width).c_str());
    wattrset(w, A_NORMAL);
}

void frame(WINDOW* w, attr_t border, std::string_view title, attr_t title_attr) {
    wattrset(w, border);
    box(w, 0, 0);
    wattrset(w, A_NORMAL);
    if (!title.empty()) {
        int width = getmaxx(w) - 4;
        std::string t = " " + clip(title, width - 2) + " ";
        put(w, 0, 2, t, std::min(width, text_width(t)), title_attr);
    }
}

void draw_function_bar(WINDOW* w, int y, Context context, const std::function<bool(Action)>& enabled) {
    auto items = function_bar(context, enabled);
    int cols = getmaxx(w);
    wmove(w, y, 0);
    wclrtoeol(w);
    if (items.empty()) return;
    int slot = cols / static_cast<int>(items.size());
    int x = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& [num, label] = items[i];
        int width = i + 1 == items.size() ? cols - x : slot;  // the last slot takes the rest
        int nw = std::min(width, text_width(num));
        put(w, y, x, num, nw, style(Style::key));
        // Stop one column short of the screen's last cell: writing it would scroll some terminals.
        int lw = width - nw - (x + width >= cols ? 1 : 0);
        put(w, y, x + nw, label, lw, style(Style::key_label));
        x += width;
    }
}

std::string text_bar(double fraction, int width) {
    int inner = std::max(0, width - 2);
    int full = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * inner);
    return "[" + std::string(static_cast<std::size_t>(full), '#') + std::string(static_cast<std::size_t>(inner - full), '.') + "]";
}

}  // namespace sfts::tui
