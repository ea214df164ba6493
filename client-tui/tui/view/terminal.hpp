// The terminal, owned: curses is started by Terminal's constructor and ended by its destructor
// (every normal and exceptional exit), and by a signal handler for the abnormal ones (SIGINT,
// SIGTERM, SIGHUP, SIGQUIT and the crash signals), which restores the terminal, then re-raises
// the signal so the process still ends the way it would have.
#pragma once

#include <curses.h>

#include <memory>

namespace sfts::tui {

struct WindowDeleter {
    void operator()(WINDOW* w) const noexcept {
        if (w) delwin(w);
    }
};
using WindowPtr = std::unique_ptr<WINDOW, WindowDeleter>;

struct ScreenDeleter {
    void operator()(SCREEN* s) const noexcept;  // endwin(), then delscreen()
};
using ScreenPtr = std::unique_ptr<SCREEN, ScreenDeleter>;

WindowPtr make_window(int rows, int cols, int y, int x);  // never null: Error(internal)

class Terminal {
public:
    Terminal();  // Error(unavailable) without a usable terminal
    ~Terminal();
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;

    int rows() const { return LINES; }
    int cols() const { return COLS; }
    bool colors() const { return colors_; }

private:
    ScreenPtr screen_;
    bool colors_ = false;
};

}  // namespace sfts::tui
