#include "keymap.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace sfts::tui {

namespace {

using C = Context;
using A = Action;

constexpr Binding kBindings[] = {
    // The two panes (termscp / Midnight Commander keys).
    {C::main, Key::tab, A::switch_pane, nullptr, "switch between the local and the remote pane"},
    {C::main, Key::up, A::up, nullptr, "move"},
    {C::main, Key::down, A::down, nullptr, nullptr},
    {C::main, Key::page_up, A::page_up, nullptr, "move a page"},
    {C::main, Key::page_down, A::page_down, nullptr, nullptr},
    {C::main, Key::home, A::home, nullptr, "first / last entry"},
    {C::main, Key::end, A::end, nullptr, nullptr},
    {C::main, Key::enter, A::open, nullptr, "open a local directory"},
    {C::main, Key::backspace, A::parent, nullptr, "go to the parent directory"},
    {C::main, Key::f5, A::transfer, "Copy", "upload or download the selection"},
    {C::main, Key::space, A::transfer, nullptr, nullptr},
    {C::main, Key::insert, A::mark, nullptr, "mark / unmark a file"},
    {C::main, key_char('t'), A::mark, nullptr, nullptr},
    {C::main, Key::f8, A::remove, "Delete", "delete the selection (asks first)"},
    {C::main, Key::del, A::remove, nullptr, nullptr},
    {C::main, Key::f2, A::passwd, "Passwd", "change your password (update)"},
    {C::main, Key::f1, A::help, "Help", "this help and your role's commands"},
    {C::main, key_char('?'), A::help, nullptr, nullptr},
    {C::main, key_char('/'), A::filter, nullptr, "filter the pane (text or *.pattern)"},
    {C::main, Key::ctrl_r, A::refresh, nullptr, "reload listings and role (logs in again)"},
    {C::main, key_char('r'), A::refresh, nullptr, nullptr},
    {C::main, Key::f9, A::toggle_log, "Log", "show / hide the log panel"},
    {C::main, Key::ctrl_l, A::redraw, nullptr, "redraw the screen"},
    {C::main, Key::f10, A::quit, "Quit", "quit (asks first)"},
    {C::main, key_char('q'), A::quit, nullptr, nullptr},
    {C::main, Key::ctrl_c, A::quit, nullptr, nullptr},

    // The connect screen: a form whose Enter connects.
    {C::connect, Key::tab, A::next_field, nullptr, "next field"},
    {C::connect, Key::down, A::next_field, nullptr, nullptr},
    {C::connect, Key::back_tab, A::prev_field, nullptr, "previous field"},
    {C::connect, Key::up, A::prev_field, nullptr, nullptr},
    {C::connect, Key::enter, A::submit, nullptr, "connect (on a recent server: use it)"},
    {C::connect, Key::f5, A::submit, "Connect", nullptr},
    {C::connect, Key::backspace, A::erase, nullptr, "delete a character"},
    {C::connect, Key::f1, A::help, "Help", "this help"},
    {C::connect, Key::f10, A::quit, "Quit", "quit"},
    {C::connect, Key::escape, A::quit, nullptr, nullptr},
    {C::connect, Key::ctrl_c, A::quit, nullptr, nullptr},
    {C::connect, Key::ctrl_l, A::redraw, nullptr, "redraw the screen"},

    // A form in a dialog.
    {C::form, Key::tab, A::next_field, nullptr, nullptr},
    {C::form, Key::down, A::next_field, nullptr, nullptr},
    {C::form, Key::back_tab, A::prev_field, nullptr, nullptr},
    {C::form, Key::up, A::prev_field, nullptr, nullptr},
    {C::form, Key::enter, A::submit, nullptr, nullptr},
    {C::form, Key::backspace, A::erase, nullptr, nullptr},
    {C::form, Key::escape, A::cancel, nullptr, nullptr},
    {C::form, Key::f10, A::cancel, nullptr, nullptr},
    {C::form, Key::ctrl_c, A::cancel, nullptr, nullptr},
    {C::form, Key::ctrl_l, A::redraw, nullptr, nullptr},

    // A message or a yes/no question.
    {C::dialog, key_char('y'), A::yes, nullptr, nullptr},
    {C::dialog, key_char('Y'), A::yes, nullptr, nullptr},
    {C::dialog, key_char('n'), A::no, nullptr, nullptr},
    {C::dialog, key_char('N'), A::no, nullptr, nullptr},
    {C::dialog, Key::escape, A::no, nullptr, nullptr},
    {C::dialog, Key::f10, A::no, nullptr, nullptr},
    {C::dialog, Key::ctrl_c, A::no, nullptr, nullptr},
    {C::dialog, Key::enter, A::accept, nullptr, nullptr},
    {C::dialog, Key::space, A::accept, nullptr, nullptr},
    {C::dialog, Key::tab, A::next_button, nullptr, nullptr},
    {C::dialog, Key::left, A::next_button, nullptr, nullptr},
    {C::dialog, Key::right, A::next_button, nullptr, nullptr},
    {C::dialog, Key::ctrl_l, A::redraw, nullptr, nullptr},
    {C::dialog, Key::up, A::scroll_up, nullptr, nullptr},  // a text longer than the window
    {C::dialog, Key::down, A::scroll_down, nullptr, nullptr},
    {C::dialog, Key::page_up, A::scroll_page_up, nullptr, nullptr},
    {C::dialog, Key::page_down, A::scroll_page_down, nullptr, nullptr},

    // While a transfer runs the screen stays live; only these keys act.
    {C::progress, Key::escape, A::cancel_transfer, nullptr, "cancel the transfer (asks first)"},
    {C::progress, key_char('c'), A::cancel_transfer, "Cancel", nullptr},
    {C::progress, Key::f10, A::cancel_transfer, nullptr, nullptr},
    {C::progress, Key::ctrl_c, A::cancel_transfer, nullptr, nullptr},
    {C::progress, Key::f1, A::help, "Help", "this help"},
    {C::progress, key_char('?'), A::help, nullptr, nullptr},
    {C::progress, Key::f9, A::toggle_log, "Log", "show / hide the log panel"},
    {C::progress, Key::ctrl_l, A::redraw, nullptr, "redraw the screen"},
};

}  // namespace

bool is_text(Key k) {
    int c = static_cast<int>(k);
    return c >= 0x20 && c != 0x7f && c < static_cast<int>(Key::named);
}

std::string key_text(Key k) {
    auto c = static_cast<std::uint32_t>(k);
    std::string out;
    auto cont = [&](int shift) { out += static_cast<char>(0x80 | ((c >> shift) & 0x3F)); };
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        cont(0);
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        cont(6);
        cont(0);
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        cont(12);
        cont(6);
        cont(0);
    }
    return out;
}

std::string key_name(Key k) {
    static const std::array<const char*, 12> named = {"Up",   "Down",   "Left", "Right",     "PgUp",   "PgDn",
                                                      "Home", "End",    "Ins",  "Del",       "S-Tab",  "Resize"};
    int c = static_cast<int>(k);
    if (k >= Key::f1 && k <= Key::f12) return "F" + std::to_string(c - static_cast<int>(Key::f1) + 1);
    if (k > Key::named && k < Key::f1) return named[static_cast<std::size_t>(c - static_cast<int>(Key::named) - 1)];
    switch (k) {
        case Key::tab: return "Tab";
        case Key::enter: return "Enter";
        case Key::escape: return "Esc";
        case Key::space: return "Space";
        case Key::backspace: return "Bksp";
        case Key::ctrl_c: return "^C";
        case Key::ctrl_l: return "^L";
        case Key::ctrl_r: return "^R";
        default: break;
    }
    if (c > 0x20 && c < 0x7f) return std::string(1, static_cast<char>(c));
    return "?";
}

std::span<const Binding> keymap() { return kBindings; }

Action lookup(Context context, Key key) {
    for (const auto& b : kBindings)
        if (b.context == context && b.key == key) return b.action;
    return Action::none;
}

const char* needed_command(Action action, bool remote_pane) {
    switch (action) {
        case Action::transfer: return remote_pane ? "download" : "upload";
        case Action::remove: return remote_pane ? "delete" : nullptr;
        case Action::passwd: return "update";
        default: return nullptr;
    }
}

bool role_allows(Action action, bool remote_pane, const std::vector<std::string>& commands) {
    const char* cmd = needed_command(action, remote_pane);
    // No list (the server's help failed): not known, so not hidden; the server decides.
    return !cmd || commands.empty() || std::find(commands.begin(), commands.end(), cmd) != commands.end();
}

std::vector<std::pair<std::string, std::string>> function_bar(Context context, const std::function<bool(Action)>& enabled) {
    std::vector<const Binding*> rows;
    for (const auto& b : kBindings)
        if (b.context == context && b.bar_label && (!enabled || enabled(b.action))) rows.push_back(&b);
    std::stable_sort(rows.begin(), rows.end(), [](const Binding* a, const Binding* b) { return a->key < b->key; });
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto* b : rows) {
        std::string name = key_name(b->key);
        out.emplace_back(name.size() > 1 && name[0] == 'F' ? name.substr(1) : name, b->bar_label);
    }
    return out;
}

std::vector<std::string> key_help(Context context, const std::function<bool(Action)>& enabled) {
    // A binding without its own help line adds its key to the line above (Down under Up).
    std::vector<std::pair<std::string, std::string>> lines;
    for (const auto& b : kBindings) {
        if (b.context != context) continue;
        if (b.help) lines.emplace_back(key_name(b.key), std::string(b.help) + (enabled && !enabled(b.action) ? " (not for your role)" : ""));
        else if (!lines.empty()) lines.back().first += " " + key_name(b.key);
    }
    std::vector<std::string> out;
    for (auto& [keys, help] : lines) {
        if (keys.size() < 14) keys.resize(14, ' ');
        out.push_back(keys + " " + help);
    }
    return out;
}

std::vector<std::string> main_help(const std::vector<std::string>& commands, bool remote_pane) {
    std::string cmds;
    for (const auto& c : commands) cmds += (cmds.empty() ? "" : " ") + c;
    std::vector<std::string> lines = {"Commands your role allows on the server:", "  " + (cmds.empty() ? "(none)" : cmds), "",
                                      std::string("Keys (") + (remote_pane ? "remote" : "local") + " pane):"};
    auto enabled = [&](Action a) { return role_allows(a, remote_pane, commands); };
    for (auto& l : key_help(Context::main, enabled)) lines.push_back("  " + l);
    lines.push_back("");
    lines.push_back("While a transfer runs:");
    for (auto& l : key_help(Context::progress)) lines.push_back("  " + l);
    return lines;
}

}  // namespace sfts::tui
