// A modal window as data: a message, a question with buttons, or a form. The controller gives
// it a callback; the view draws it; keys go to the topmost one.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "form.hpp"
#include "reaction.hpp"

namespace sfts::tui {

struct Dialog {
    enum class Kind { info, error, question, form };
    Kind kind = Kind::info;
    std::string title;
    std::vector<std::string> lines;    // wrapped by the view
    Form form;                         // Kind::form
    std::vector<std::string> buttons;  // Kind::question: the first is "yes", the last "no"
    std::size_t button = 0;            // the focused one
    // A text longer than the window scrolls (Up/Down/PgUp/PgDn): the first wrapped line shown.
    // The view says how far it can go, as it alone knows the window's height.
    std::size_t scroll = 0;
    mutable std::size_t scroll_max = 0;
    mutable std::size_t page = 1;

    // accepted: Enter on a message, the first button ("yes"), or a submitted form. The button
    // index is in `button`. Returns what the screen needs; the dialog is closed before the call
    // unless keep_open is set by the callback (a form with an invalid value stays).
    std::function<Reaction(Dialog&, bool accepted)> on_close;
    std::function<void(Dialog&)> on_change;  // a form field changed (live filter)
    bool keep_open = false;
    std::string tag;  // lets the controller find a dialog again ("cancel-transfer")
};

}  // namespace sfts::tui
