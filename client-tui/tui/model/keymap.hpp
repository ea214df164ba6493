// The one keymap: every key the UI reacts to, in every context, with the action it triggers,
// its label on the function-key bar and its line in the help window (htop's Action.c model).
// Keys are this layer's own vocabulary; the view decodes terminal input into it.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sfts::tui {

enum class Key : int {
    none = -1,
    ctrl_c = 3,
    tab = 9,
    enter = 10,
    ctrl_l = 12,
    ctrl_r = 18,
    escape = 27,
    space = 32,
    backspace = 127,
    named = 0x110000,  // above every Unicode code point: never a typed character
    up,
    down,
    left,
    right,
    page_up,
    page_down,
    home,
    end,
    insert,
    del,
    back_tab,
    resize,
    f1,
    f2,
    f3,
    f4,
    f5,
    f6,
    f7,
    f8,
    f9,
    f10,
    f11,
    f12,
};

constexpr Key key_char(char32_t c) { return static_cast<Key>(c); }
constexpr Key fkey(int n) { return static_cast<Key>(static_cast<int>(Key::f1) + n - 1); }
bool is_text(Key k);  // a printable character a form field takes
std::string key_text(Key k);  // that character, UTF-8 encoded
std::string key_name(Key k);

enum class Context {
    main,      // the two panes
    connect,   // the connect screen's form
    form,      // a form in a dialog (enrollment, passwords, filter)
    dialog,    // a message or a question
    progress,  // while a transfer runs
};

enum class Action {
    none,
    // main
    switch_pane,
    up,
    down,
    page_up,
    page_down,
    home,
    end,
    open,
    parent,
    transfer,
    mark,
    remove,
    passwd,
    help,
    filter,
    refresh,
    toggle_log,
    redraw,
    quit,
    // forms
    next_field,
    prev_field,
    submit,
    erase,
    cancel,
    // dialogs
    yes,
    no,
    accept,
    next_button,
    scroll_up,
    scroll_down,
    scroll_page_up,
    scroll_page_down,
    // progress
    cancel_transfer,
};

struct Binding {
    Context context;
    Key key;
    Action action;
    const char* bar_label;  // on the function-key bar, or nullptr
    const char* help;       // in the help window (first binding of an action), or nullptr
};

std::span<const Binding> keymap();
Action lookup(Context context, Key key);

// The server command an action needs from the role (docs/protocol.md help_reply), given which
// pane is active: F5 in the local pane uploads, in the remote one downloads; F8 deletes on the
// server only in the remote pane. nullptr: the action needs none.
const char* needed_command(Action action, bool remote_pane);
// Whether the role whose commands the server listed may do the action (yes when the list is
// empty: unknown).
bool role_allows(Action action, bool remote_pane, const std::vector<std::string>& commands);

// ("5", "Copy") pairs of the context's function-key bar, in key order; a binding whose action
// enabled() refuses is left out (the role may not delete: no "8Delete").
std::vector<std::pair<std::string, std::string>> function_bar(Context context,
                                                              const std::function<bool(Action)>& enabled = {});
// "F5 Space      upload or download the selection" lines for the help window; an action
// enabled() refuses gets " (not for your role)".
std::vector<std::string> key_help(Context context, const std::function<bool(Action)>& enabled = {});
// The whole help window of the main screen, every line from the table: the role's commands,
// the keys of the panes, then the keys while a transfer runs (cancel).
std::vector<std::string> main_help(const std::vector<std::string>& commands, bool remote_pane);

}  // namespace sfts::tui
