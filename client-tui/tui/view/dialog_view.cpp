// Windows over the screen: the transfer's progress and the dialogs (messages, questions, forms).
#include <algorithm>

#include "../model/format.hpp"
#include "draw.hpp"
#include "screen.hpp"
#include "text.hpp"
#include "theme.hpp"

namespace sfts::tui {

namespace {

// A centred window; drawn, put on the virtual screen, and freed (the terminal keeps the picture).
struct Popup {
    WindowPtr win;
    Popup(int h, int w, int rows, int cols, attr_t bg) {
        h = std::min(h, rows);
        w = std::min(w, cols);
        win = make_window(h, w, std::max(0, (rows - h) / 2), std::max(0, (cols - w) / 2));
        wbkgd(win.get(), bg | ' ');
        werase(win.get());
    }
    WINDOW* get() const { return win.get(); }
    void show() const { wnoutrefresh(win.get()); }
};

// "[ Yes ]   [ No ]", and where each button starts (for highlighting the focused one).
std::string buttons_text(const std::vector<std::string>& buttons, std::vector<int>& starts) {
    std::string out;
    for (std::size_t i = 0; i < buttons.size(); ++i) {
        if (i) out += "   ";
        starts.push_back(text_width(out));
        out += "[ " + buttons[i] + " ]";
    }
    return out;
}

}  // namespace

void Screen::draw_transfer(const TransferState& t) {
    const auto& p = t.progress;
    int width = std::min(layout_.cols - 4, 72);
    Popup pop(11, width, layout_.rows, layout_.cols, style(Style::dialog));
    WINDOW* w = pop.get();
    std::string title = std::string(t.upload ? "Uploading" : "Downloading") + " " + std::to_string(p.index() + 1) +
                        " of " + std::to_string(p.count());
    frame(w, style(Style::dialog), title, style(Style::dialog) | A_BOLD);
    int inner = width - 4;
    auto frac = [](std::uint64_t done, std::uint64_t total) {
        return total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    };
    put(w, 1, 2, printable(p.current().name), inner, style(Style::dialog) | A_BOLD);
    put(w, 2, 2, text_bar(frac(p.file_done(), p.current().size), inner), inner, style(Style::dialog));
    put(w, 3, 2, p.file_line(), inner, style(Style::dialog));
    put(w, 5, 2, "Total", inner, style(Style::dialog) | A_BOLD);
    put(w, 6, 2, text_bar(frac(p.total_done(), p.total_size()), inner), inner, style(Style::dialog));
    put(w, 7, 2, p.total_line(), inner, style(Style::dialog));
    put(w, 9, 2, clip_words(t.cancel_requested ? "Cancelling..." : "Esc or c: cancel   F1: help   (the screen stays live)", inner), inner,
        style(Style::dialog) | A_DIM);
    pop.show();
}

void Screen::draw_dialog(const Dialog& d) {
    attr_t bg = d.kind == Dialog::Kind::error ? style(Style::error) : style(Style::dialog);
    int max_w = std::min(layout_.cols - 4, 76);
    std::vector<std::string> lines;
    int want = text_width(d.title) + 8;
    // '\n' in a line is the controller's paragraph break; each paragraph then passes the last
    // fence (a raw control character in it is escaped, not drawn) and is wrapped at spaces.
    std::vector<std::string> paragraphs;
    for (const auto& l : d.lines)
        for (std::size_t start = 0;;) {
            auto nl = l.find('\n', start);
            paragraphs.push_back(terminal_safe(std::string_view(l).substr(start, nl == std::string::npos ? nl : nl - start)));
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
    for (const auto& p : paragraphs) want = std::max(want, text_width(p) + 4);
    const std::string form_hint = "Enter: OK   Esc: cancel   Tab: next field";
    if (d.kind == Dialog::Kind::form) want = std::max(want, text_width(form_hint) + 4);  // never cut mid-word
    int width = std::clamp(want, std::min(44, max_w), max_w);
    for (const auto& p : paragraphs)
        for (auto& wl : wrap(p, width - 4)) lines.push_back(wl);

    std::vector<std::string> buttons = d.buttons;
    if (d.kind == Dialog::Kind::info || d.kind == Dialog::Kind::error) buttons = {"OK"};
    int form_rows = d.kind == Dialog::Kind::form ? static_cast<int>(d.form.fields().size()) + 1 : 0;
    int extra = d.kind == Dialog::Kind::form ? 1 : 2;  // the hint line, or a blank and the buttons
    int height = std::min(layout_.rows, static_cast<int>(lines.size()) + form_rows + extra + 2);
    Popup pop(height, width, layout_.rows, layout_.cols, bg);
    WINDOW* w = pop.get();
    frame(w, bg, d.title, bg | A_BOLD);
    int inner = width - 4;
    int y = 1;
    int last_text_row = height - 3 - form_rows - (extra - 1);
    // A text taller than the window scrolls; the last row says that there is more.
    std::size_t rows = static_cast<std::size_t>(std::max(1, last_text_row));
    std::size_t max_first = lines.size() > rows ? lines.size() - rows : 0;
    d.scroll_max = max_first;
    d.page = std::max<std::size_t>(1, rows - 1);
    std::size_t first = std::min(d.scroll, max_first);
    for (std::size_t i = first; i < lines.size(); ++i) {
        if (y > last_text_row) break;
        bool marker_row = max_first > 0 && y == last_text_row && i + 1 < lines.size();
        if (marker_row) {
            put(w, y++, 2, "-- more: Down / PgDn (" + std::to_string(lines.size() - i) + " lines) --", inner, bg | A_DIM);
            break;
        }
        put(w, y++, 2, lines[i], inner, bg);
    }
    if (d.kind == Dialog::Kind::form) {
        ++y;
        int label_w = 0;
        for (const auto& f : d.form.fields()) label_w = std::max(label_w, text_width(f.label) + 2);
        label_w = std::min(label_w, inner / 2);
        for (std::size_t i = 0; i < d.form.fields().size() && y < height - 2; ++i, ++y) {
            const Field& f = d.form[i];
            bool focused = d.form.focus() == i;
            put(w, y, 2, f.label, label_w, bg | (focused ? A_BOLD : A_NORMAL));
            std::string shown = f.hidden ? std::string() : printable(d.form.display(i));
            if (focused) shown += "_";
            put(w, y, 2 + label_w, shown, inner - label_w, focused ? style(Style::field) : bg | A_UNDERLINE);
        }
        put(w, height - 2, 2, clip_words(form_hint, inner), inner, bg | A_DIM);
    } else {
        std::vector<int> starts;
        std::string text = buttons_text(buttons, starts);
        int x = 2 + std::max(0, (inner - text_width(text)) / 2);
        for (std::size_t i = 0; i < buttons.size(); ++i) {
            std::string b = "[ " + buttons[i] + " ]";
            bool focused = i == std::min(d.button, buttons.size() - 1);
            put(w, height - 2, x + starts[i], b, text_width(b), focused ? bg | A_REVERSE | A_BOLD : bg);
        }
    }
    pop.show();
}

}  // namespace sfts::tui
