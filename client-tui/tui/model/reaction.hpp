// What an action asks of the screen. Actions only change the model and say what they need;
// the event loop alone decides when to draw (htop's Htop_Reaction).
#pragma once

namespace sfts::tui {

enum Reaction : unsigned {
    react_none = 0,
    react_refresh = 1u << 0,  // content changed: draw it
    react_redraw = 1u << 1,   // layout changed (resize, log panel): rebuild windows, repaint all
    react_quit = 1u << 2,
};

constexpr Reaction operator|(Reaction a, Reaction b) {
    return static_cast<Reaction>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr Reaction& operator|=(Reaction& a, Reaction b) { return a = a | b; }

}  // namespace sfts::tui
