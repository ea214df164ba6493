#include "terminal.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "sfts/error.hpp"
#include "theme.hpp"

namespace sfts::tui {

namespace {

std::atomic<bool> g_active{false};

constexpr std::array kSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
std::array<struct sigaction, kSignals.size()> g_previous{};

// endwin() is not on the async-signal-safe list, but the process is about to die and a shell
// left without echo is the worse outcome; the flag makes sure it runs once.
extern "C" void restore_and_reraise(int sig) {
    if (g_active.exchange(false)) endwin();
    // SA_RESETHAND has put the default action back: the re-raised signal ends the process (with
    // a core dump where the signal asks for one) once this handler returns.
    std::raise(sig);
}

void install_handlers() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
        struct sigaction sa {};
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(kSignals[i], &sa, &g_previous[i]);
    }
}

void remove_handlers() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &g_previous[i], nullptr);
}

}  // namespace

void ScreenDeleter::operator()(SCREEN* s) const noexcept {
    if (g_active.exchange(false)) endwin();
    delscreen(s);
}

WindowPtr make_window(int rows, int cols, int y, int x) {
    WindowPtr w(newwin(rows, cols, y, x));
    if (!w) fail(Errc::internal, "newwin(" + std::to_string(rows) + ", " + std::to_string(cols) + ") failed");
    return w;
}

Terminal::Terminal() {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) fail(Errc::unavailable, "sfts-tui needs a terminal");
    set_escdelay(25);  // Esc cancels at once instead of after curses' default second
    SCREEN* s = newterm(nullptr, stdout, stdin);
    if (!s) fail(Errc::unavailable, "cannot start the terminal (is TERM set?)");
    screen_.reset(s);
    g_active.store(true);
    install_handlers();
    raw();  // ^C arrives as a key (quit asks first); an external SIGINT still restores the terminal
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    colors_ = has_colors() && start_color() == OK;
    if (colors_) use_default_colors();
    init_theme(colors_);
}

Terminal::~Terminal() {
    screen_.reset();  // endwin() first, then the handlers go
    remove_handlers();
}

}  // namespace sfts::tui
