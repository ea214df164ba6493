// Everything the screen shows, in one place: the connect form, the two panes, the session, the
// running transfer, the log and the dialogs. The controller changes it; the view only reads it.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dialog.hpp"
#include "form.hpp"
#include "log_buffer.hpp"
#include "pane.hpp"
#include "recent.hpp"
#include "transfer.hpp"

namespace sfts::tui {

struct SessionInfo {
    std::string user;
    std::string certificate;  // subject, serial, expiry
    std::string server;       // host:port
    std::vector<std::string> commands;  // what the role may do (the server's help reply)
};

struct TransferState {
    bool upload = true;
    TransferProgress progress;
    std::uint64_t last_seq = 0;
    bool cancel_requested = false;
    std::size_t files_done = 0;  // confirmed by the server's receipt or signature
    std::uint64_t bytes_done = 0;
    std::string last_name;       // the last one done
};

enum class Side { local = 0, remote = 1 };

struct UiState {
    enum class Screen { connect, main } screen = Screen::connect;

    // The connect screen. Field indices are fixed (ConnectField).
    Form connect_form;
    std::vector<RecentServer> recent;
    std::optional<std::size_t> recent_focus;  // focus is on a recent server, not a field
    std::string connect_note;                 // enrolled or not, where the certificate is
    std::string connect_status;               // "connecting…"

    // The main screen.
    std::array<Pane, 2> panes;
    Side active = Side::local;
    std::string local_dir;
    SessionInfo session;
    bool show_log = false;
    bool busy = false;  // a job is running on the network thread
    std::optional<TransferState> transfer;
    std::string status;  // the status line above the key bar: what just happened (display text)

    LogBuffer log;
    std::vector<std::unique_ptr<Dialog>> dialogs;  // the last one is on top

    Pane& pane(Side s) { return panes[static_cast<std::size_t>(s)]; }
    const Pane& pane(Side s) const { return panes[static_cast<std::size_t>(s)]; }
};

enum ConnectField : std::size_t { f_host, f_file_port, f_enroll_port, f_token, f_module, f_key_label, f_pin, f_password };

}  // namespace sfts::tui
