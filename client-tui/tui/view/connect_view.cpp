// The connect screen: where to connect, with which token; the PIN and password fields never
// show what is typed.
#include <algorithm>

#include "../model/format.hpp"
#include "draw.hpp"
#include "screen.hpp"
#include "text.hpp"
#include "theme.hpp"

namespace sfts::tui {

namespace {

// The end of a long value stays visible while typing.
std::string tail(const std::string& s, int width) {
    if (text_width(s) < width) return s;
    std::size_t i = 0;
    while (i < s.size() && text_width(std::string_view(s).substr(i)) >= width) ++i;
    return "~" + s.substr(i);
}

}  // namespace

void Screen::draw_connect(const UiState& ui) {
    int cols = layout_.cols;
    put(header_.get(), 0, 0, " sfts-tui - secure file transfer with your smartcard", cols, style(Style::header));
    WINDOW* w = body_.get();
    int rows = getmaxy(w);
    put_clipped(w, 1, 2, "Connect to an sfts server", A_BOLD);

    const Form& f = ui.connect_form;
    const int label_w = 18;
    const int value_w = std::clamp(cols - label_w - 20, 10, 56);
    int y = 3;
    std::vector<std::string> notes;  // hints too long for the space beside their field
    for (std::size_t i = 0; i < f.fields().size(); ++i, ++y) {
        const Field& fld = f[i];
        bool focused = !ui.recent_focus && f.focus() == i;
        put(w, y, 2, fld.label, label_w, focused ? A_BOLD : A_NORMAL);
        if (fld.locked) {
            put(w, y, 2 + label_w, printable(fld.note), cols - label_w - 4, A_DIM);
            continue;
        }
        std::string shown = fld.hidden ? std::string() : tail(printable(f.display(i)), value_w - 1);
        put(w, y, 2 + label_w, focused ? shown + "_" : shown, value_w, focused ? style(Style::field) : A_UNDERLINE);
        if (fld.hidden) {
            int room = cols - (3 + label_w + value_w) - 1;
            std::string note = fld.note.empty() ? "(not shown)" : fld.note;
            if (text_width(note) > room) {  // never cut mid-word: the whole hint goes below the form
                notes.push_back(fld.label + ": " + note);
                note = "(not shown)";
            }
            put_clipped(w, y, 3 + label_w + value_w, note, A_DIM, false);
        }
    }
    // Hints and notes wrap at word boundaries; nothing is cut in the middle of a word.
    auto paragraph = [&](const std::string& text, attr_t a) {
        for (const auto& line : wrap(text, cols - 4))
            if (y < rows) put(w, y++, 2, line, cols - 4, a);
    };
    for (const auto& n : notes) paragraph(n, A_DIM);
    ++y;
    if (!ui.connect_note.empty()) paragraph(printable(ui.connect_note), A_NORMAL);
    if (!ui.connect_status.empty()) paragraph(printable(ui.connect_status), style(Style::hint) | A_BOLD);
    ++y;
    paragraph("Enter: connect   Tab/Down: next field   F10: quit", A_DIM);
    ++y;
    if (y < rows) put_clipped(w, y++, 2, ui.recent.empty() ? "No recent servers" : "Recent servers (Tab to them, Enter uses one)", A_BOLD);
    for (std::size_t i = 0; i < ui.recent.size() && y < rows; ++i, ++y) {
        bool focused = ui.recent_focus && *ui.recent_focus == i;
        put(w, y, 4, printable(ui.recent[i].describe()), cols - 6, focused ? style(Style::cursor) : A_NORMAL);
    }
    draw_function_bar(bar_.get(), 0, Context::connect);
}

}  // namespace sfts::tui
