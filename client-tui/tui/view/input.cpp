#include "input.hpp"

namespace sfts::tui {

namespace {

Key decode_function_key(wint_t c) {
    if (c >= static_cast<wint_t>(KEY_F(1)) && c <= static_cast<wint_t>(KEY_F(12)))
        return fkey(static_cast<int>(c) - KEY_F0);
    switch (c) {
        case KEY_UP: return Key::up;
        case KEY_DOWN: return Key::down;
        case KEY_LEFT: return Key::left;
        case KEY_RIGHT: return Key::right;
        case KEY_PPAGE: return Key::page_up;
        case KEY_NPAGE: return Key::page_down;
        case KEY_HOME:
        case KEY_FIND: return Key::home;
        case KEY_END:
        case KEY_SELECT: return Key::end;
        case KEY_IC: return Key::insert;
        case KEY_DC: return Key::del;
        case KEY_BTAB: return Key::back_tab;
        case KEY_BACKSPACE: return Key::backspace;
        case KEY_ENTER: return Key::enter;
        case KEY_RESIZE: return Key::resize;
        default: return Key::none;
    }
}

}  // namespace

Key read_key(WINDOW* w, int timeout_ms) {
    wtimeout(w, timeout_ms);
    wint_t c = 0;
    int rc = wget_wch(w, &c);
    if (rc == ERR) return Key::none;
    if (rc == KEY_CODE_YES) return decode_function_key(c);
    switch (c) {
        case '\r':
        case '\n': return Key::enter;
        case 8:
        case 127: return Key::backspace;
        default: break;
    }
    if (c >= 0x110000) return Key::none;
    return static_cast<Key>(static_cast<int>(c));
}

}  // namespace sfts::tui
