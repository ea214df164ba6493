// The screen's few styles, with monochrome fallbacks.
#pragma once

#include <curses.h>

namespace sfts::tui {

enum class Style { normal, header, cursor, cursor_inactive, marked, dir, frame_active, frame, key, key_label, dialog, error, bar, bar_empty, field, hint };

void init_theme(bool colors);
attr_t style(Style s);

}  // namespace sfts::tui
