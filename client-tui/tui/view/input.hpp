// Terminal input decoded into the keymap's key vocabulary. The only place that knows curses'
// key codes.
#pragma once

#include <curses.h>

#include "../model/keymap.hpp"

namespace sfts::tui {

// Waits up to timeout_ms (curses' timeout) for one key; Key::none when none came.
Key read_key(WINDOW* w, int timeout_ms);

}  // namespace sfts::tui
