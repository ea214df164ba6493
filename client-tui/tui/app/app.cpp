#include "app.hpp"

#include <chrono>
#include <ctime>

#include "../model/format.hpp"
#include "../model/local_dir.hpp"
#include "../view/input.hpp"
#include "../view/screen.hpp"
#include "../view/terminal.hpp"

namespace sfts::tui {

namespace {

std::string error_title(Errc kind) {
    switch (kind) {
        case Errc::permission_denied: return "Denied";
        case Errc::auth_failed: return "Authentication failed";
        case Errc::integrity: return "Integrity check failed";
        case Errc::limit_exceeded: return "Limit exceeded";
        case Errc::already_exists: return "Already exists";
        case Errc::not_found: return "Not found";
        case Errc::io: return "Connection or I/O error";
        case Errc::timeout: return "Timed out";
        case Errc::token: return "Token error";
        case Errc::unavailable: return "Unavailable";
        case Errc::protocol: return "Protocol error";
        case Errc::invalid_argument: return "Invalid input";
        case Errc::crypto: return "Cryptography error";
        default: return "Error";
    }
}

}  // namespace

App::App(Options options) : options_(std::move(options)) {
    base_cfg_ = client::load_client_config(options_.config_path);
    cfg_ = base_cfg_;
    ui_.local_dir = absolute_dir(options_.local_dir);
    ui_.recent = load_recent(recent_path());
    init_connect_form();
}

double App::now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void App::log(const std::string& text) { ui_.log.add(std::time(nullptr), text); }

void App::status(std::string text) { ui_.status = std::move(text); }

int App::run() {
    Terminal term;
    term_ = &term;
    Screen screen(term);
    Reaction r = react_redraw;
    for (;;) {
        ui_.busy = worker_.busy();
        if (r & (react_refresh | react_redraw)) screen.render(ui_, (r & react_redraw) != 0);
        if (r & react_quit) break;
        r = react_none;
        // A short timeout keeps progress and events flowing while no key is pressed.
        Key k = read_key(screen.input(), 100);
        if (k != Key::none) r |= on_key(k);
        r |= poll_worker();
        if (ui_.busy != worker_.busy()) r |= react_refresh;
    }
    term_ = nullptr;
    return 0;
}

Reaction App::on_key(Key k) {
    if (k == Key::resize) return react_redraw;
    if (!ui_.dialogs.empty()) return on_dialog_key(k);
    if (quitting_) return react_none;
    if (ui_.screen == UiState::Screen::connect) return on_connect_key(k);
    if (ui_.transfer) return on_progress_key(k);
    return on_main_key(k);
}

// --- dialogs

Dialog& App::push(Dialog::Kind kind, std::string title, std::vector<std::string> lines) {
    auto d = std::make_unique<Dialog>();
    d->kind = kind;
    d->title = std::move(title);
    d->lines = std::move(lines);
    ui_.dialogs.push_back(std::move(d));
    return *ui_.dialogs.back();
}

void App::message(Dialog::Kind kind, std::string title, std::string text) {
    push(kind, std::move(title), {std::move(text)});
}

void App::ask(std::string title, std::string text, std::vector<std::string> buttons, std::size_t focus,
              std::function<Reaction(bool yes)> then, std::string tag) {
    Dialog& d = push(Dialog::Kind::question, std::move(title), {std::move(text)});
    d.buttons = std::move(buttons);
    d.button = focus;
    d.tag = std::move(tag);
    d.on_close = [then = std::move(then)](Dialog&, bool yes) { return then(yes); };
}

void App::close_tagged(const std::string& tag) {
    std::erase_if(ui_.dialogs, [&](const auto& d) { return d->tag == tag; });
}

Reaction App::close_top(bool accepted) {
    std::size_t at = ui_.dialogs.size() - 1;
    std::unique_ptr<Dialog> d = std::move(ui_.dialogs.back());
    ui_.dialogs.pop_back();
    d->keep_open = false;
    Reaction r = react_refresh;
    if (d->on_close) r |= d->on_close(*d, accepted);
    // Dialogs the callback opened stay above the one that is kept open.
    if (d->keep_open) ui_.dialogs.insert(ui_.dialogs.begin() + static_cast<long>(at), std::move(d));
    return r;
}

Reaction App::on_dialog_key(Key k) {
    Dialog& d = *ui_.dialogs.back();
    if (d.kind == Dialog::Kind::form) {
        switch (lookup(Context::form, k)) {
            case Action::next_field: d.form.next(); break;
            case Action::prev_field: d.form.prev(); break;
            case Action::submit: return close_top(true);
            case Action::cancel: return close_top(false);
            case Action::redraw: return react_redraw;
            case Action::erase:
                d.form.erase();
                if (d.on_change) d.on_change(d);
                break;
            default:
                if (!is_text(k)) return react_none;
                d.form.insert(key_text(k));
                if (d.on_change) d.on_change(d);
                break;
        }
        return react_refresh;
    }
    std::size_t buttons = d.kind == Dialog::Kind::question ? d.buttons.size() : 1;
    switch (lookup(Context::dialog, k)) {
        case Action::yes: d.button = 0; return close_top(true);
        case Action::no: d.button = buttons - 1; return close_top(d.kind != Dialog::Kind::question);
        case Action::accept: return close_top(d.kind != Dialog::Kind::question || d.button == 0);
        case Action::next_button: d.button = (d.button + 1) % buttons; return react_refresh;
        case Action::redraw: return react_redraw;
        case Action::scroll_up: d.scroll = d.scroll > 0 ? std::min(d.scroll, d.scroll_max) - 1 : 0; return react_refresh;
        case Action::scroll_down: d.scroll = std::min(d.scroll + 1, d.scroll_max); return react_refresh;
        case Action::scroll_page_up: d.scroll = std::min(d.scroll, d.scroll_max) - std::min(std::min(d.scroll, d.scroll_max), d.page); return react_refresh;
        case Action::scroll_page_down: d.scroll = std::min(d.scroll + d.page, d.scroll_max); return react_refresh;
        default: return react_none;
    }
}

void App::show_error(const Failed& f) {
    std::string text = printable(f.what) + ": " + printable(f.message);
    if (f.fatal && ui_.screen == UiState::Screen::main) text += "\n\nThe session has ended; you are back at the connect screen.";
    Dialog& d = push(Dialog::Kind::error, error_title(f.kind), {text});
    if (f.fatal && ui_.screen == UiState::Screen::main) {
        std::string why = f.message;
        d.on_close = [this, why](Dialog&, bool) {
            to_connect_screen("Disconnected: " + why);
            return react_redraw;
        };
    }
}

// --- the worker's events

Reaction App::poll_worker() {
    Reaction r = react_none;
    if (ui_.transfer) {
        ProgressSample s = worker_.progress();
        if (s.seq != ui_.transfer->last_seq) {
            ui_.transfer->last_seq = s.seq;
            ui_.transfer->progress.update(s.index, s.done, now());
            r |= react_refresh;
        }
    }
    for (auto& e : worker_.take_events()) r |= on_event(e);
    if (quitting_ && now() > quit_deadline_) r |= react_quit;  // the server did not answer exit in time
    return r;
}

Reaction App::on_event(Event& ev) {
    if (auto* e = std::get_if<Connected>(&ev)) {
        on_connected(*e);
        return react_redraw;
    }
    if (auto* e = std::get_if<Listed>(&ev)) {
        ui_.pane(Side::remote).set_entries(std::move(e->entries));
        return react_refresh;
    }
    if (auto* e = std::get_if<NeedSecret>(&ev)) return ask_password(e->what, e->refused);
    if (auto* e = std::get_if<Enrolled>(&ev)) {
        log("enrolled: " + e->summary);
        ui_.connect_status = "Enrolled. Logging in...";
        update_connect_note();
        return react_refresh;
    }
    if (auto* e = std::get_if<Refreshed>(&ev)) {
        bool changed = e->commands != ui_.session.commands;
        ui_.session.commands = e->commands;
        std::string cmds;
        for (const auto& c : e->commands) cmds += (cmds.empty() ? "" : " ") + c;
        log("logged in again; role allows: " + cmds);
        status(changed ? "Logged in again: your role changed, it now allows " + printable(cmds)
                       : "Logged in again: listings reloaded, your role is unchanged");
        return react_refresh;
    }
    if (auto* e = std::get_if<FileDone>(&ev)) {
        log(std::string(e->upload ? "uploaded " : "downloaded ") + e->name + " (" + std::to_string(e->size) +
            " bytes, sha256 " + e->sha256_hex.substr(0, 16) + "..., " +
            (e->upload ? "receipt verified)" : "signature verified)"));
        if (ui_.transfer) {
            ++ui_.transfer->files_done;
            ui_.transfer->bytes_done += e->size;
            ui_.transfer->last_name = e->name;
        }
        return react_refresh;
    }
    if (auto* e = std::get_if<TransferEnded>(&ev)) {
        // The status line says what the server confirmed: the count, the size, the proof.
        if (ui_.transfer && ui_.transfer->files_done > 0) {
            const TransferState& t = *ui_.transfer;
            std::string what = t.files_done == 1 ? "'" + printable(t.last_name) + "'" : plural(t.files_done, "file", "files");
            status(std::string(e->upload ? "Uploaded " : "Downloaded ") + what + " (" + human_size(t.bytes_done) + "), " +
                   (e->upload ? (t.files_done == 1 ? "receipt" : "receipts") : (t.files_done == 1 ? "signature" : "signatures")) +
                   " verified" + (e->cancelled ? "; then cancelled" : ""));
        } else if (e->cancelled) {
            status(std::string(e->upload ? "Upload" : "Download") + " cancelled: nothing transferred");
        }
        ui_.transfer.reset();
        close_tagged("cancel-transfer");
        if (!e->upload) load_local(ui_.local_dir);
        if (e->cancelled) {
            std::string where = human_size(e->cancelled_at) + " / " + human_size(e->cancelled_size);
            log((e->upload ? "upload of " : "download of ") + e->cancelled_name + " cancelled at " + where);
            message(Dialog::Kind::info, "Transfer cancelled",
                    "'" + printable(e->cancelled_name) + "' was stopped at " + where + ". " +
                        (e->upload ? "The server stored nothing." : "No partial file was kept."));
        }
        return react_refresh;
    }
    if (auto* e = std::get_if<Deleted>(&ev)) {
        log("deleted " + e->name + " on the server");
        status("Deleted '" + printable(e->name) + "' on the server");
        return react_refresh;
    }
    if (std::holds_alternative<PasswordChanged>(ev)) {
        log("password changed");
        status("Password changed");
        message(Dialog::Kind::info, "Password changed", "Your new password is in effect.");
        return react_refresh;
    }
    if (auto* e = std::get_if<Info>(&ev)) {
        log(e->text);
        return react_refresh;
    }
    if (auto* e = std::get_if<Failed>(&ev)) {
        log(e->what + ": " + std::string(errc_name(e->kind)) + ": " + e->message);
        status(printable(e->what) + " failed: " + printable(e->message));
        if (ui_.screen == UiState::Screen::connect) ui_.connect_status.clear();
        if (e->fatal) {
            ui_.transfer.reset();
            close_tagged("cancel-transfer");
        }
        show_error(*e);
        return react_refresh;
    }
    if (std::holds_alternative<Closed>(ev)) return quitting_ ? react_quit : react_refresh;
    return react_none;
}

}  // namespace sfts::tui
