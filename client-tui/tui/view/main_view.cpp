// The main screen: status lines, the two panes, the log panel, the function-key bar.
#include <algorithm>

#include <cstdlib>

#include "../model/format.hpp"
#include "../model/rows.hpp"
#include "draw.hpp"
#include "screen.hpp"
#include "text.hpp"
#include "theme.hpp"

namespace sfts::tui {

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

}  // namespace

void Screen::draw_header(const UiState& ui) {
    WINDOW* w = header_.get();
    const auto& s = ui.session;
    std::string role = s.commands.empty() ? "role: (none yet)" : "role: " + join(s.commands);
    std::string line1 = " user " + printable(s.user) + " @ " + printable(s.server) + "   " + role;
    std::string busy = ui.busy ? " working... " : "";
    int cols = layout_.cols;
    put(w, 0, 0, clip_words(line1, cols - text_width(busy)), cols - text_width(busy), style(Style::header));
    if (!busy.empty()) put(w, 0, cols - text_width(busy), busy, text_width(busy), style(Style::header) | A_BOLD);
    put(w, 1, 0, " cert " + printable(s.certificate), cols, style(Style::header));
}

void Screen::draw_pane(WINDOW* w, const UiState& ui, Side side) {
    const Pane& p = ui.pane(side);
    bool active = ui.active == side;
    bool remote = side == Side::remote;
    int inner = getmaxx(w) - 2;
    // frame() puts " title " inside the border with a column to spare on each side.
    int title_w = getmaxx(w) - 6;
    const char* home = std::getenv("HOME");
    std::string title = remote ? clip_words("Remote: " + printable(ui.session.user) + "@" + printable(ui.session.server), title_w)
                               : path_title("Local: ", printable(ui.local_dir), title_w, home ? printable(home) : "");
    frame(w, active ? style(Style::frame_active) : style(Style::frame), title,
          active ? style(Style::frame_active) | A_REVERSE : A_BOLD);

    Columns c = pane_columns(inner, remote);
    std::string head = " " + pad("Name", c.name);
    if (c.size) head += " " + pad_left("Size", c.size);
    if (c.time) head += " " + pad("Modified", c.time);
    if (c.uploader) head += " " + pad("Uploader", c.uploader);
    put(w, 1, 1, head, inner, A_BOLD);

    std::size_t rows = static_cast<std::size_t>(layout_.list_rows);
    std::size_t top = p.top(rows);
    for (std::size_t r = 0; r < rows && top + r < p.size(); ++r) {
        std::size_t i = top + r;
        const Entry& e = p.row(i);
        attr_t a = A_NORMAL;
        if (p.marked(e.name)) a = style(Style::marked);
        else if (e.dir) a = style(Style::dir);
        if (i == p.cursor()) a = active ? style(Style::cursor) : a | style(Style::cursor_inactive);
        put(w, 2 + static_cast<int>(r), 1, row_text(e, c, p.marked(e.name)), inner, a);
    }
    if (p.size() == 0) put(w, 2, 1, p.filter().empty() ? "  (empty)" : "  (nothing matches the filter)", inner);
    if (const Entry* e = p.current()) put(w, 2 + layout_.list_rows, 1, details(*e), inner, A_DIM);

    std::string info = pane_info(p, remote);
    put(w, getmaxy(w) - 1, 2, clip_words(info, inner - 2), std::min(inner - 2, text_width(info)),
        active ? style(Style::frame_active) : A_NORMAL);
}

void Screen::draw_log(const UiState& ui) {
    WINDOW* w = log_.get();
    frame(w, style(Style::frame), "Log (F9 hides)", A_BOLD);
    int rows = getmaxy(w) - 2;
    const auto& lines = ui.log.lines();
    std::size_t first = lines.size() > static_cast<std::size_t>(rows) ? lines.size() - static_cast<std::size_t>(rows) : 0;
    for (std::size_t i = first, y = 1; i < lines.size(); ++i, ++y) put(w, static_cast<int>(y), 1, lines[i], getmaxx(w) - 2);
}

void Screen::draw_main(const UiState& ui) {
    draw_header(ui);
    draw_pane(left_.get(), ui, Side::local);
    draw_pane(right_.get(), ui, Side::remote);
    if (log_) draw_log(ui);
    put(status_.get(), 0, 0, clip_words(" " + ui.status, layout_.cols - 1), layout_.cols - 1, style(Style::hint));
    bool remote = ui.active == Side::remote;
    const auto& commands = ui.session.commands;
    draw_function_bar(bar_.get(), 0, ui.transfer ? Context::progress : Context::main,
                      [&](Action a) { return role_allows(a, remote, commands); });
}

}  // namespace sfts::tui
