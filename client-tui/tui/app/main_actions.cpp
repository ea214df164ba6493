// The main screen's actions: each changes the model or posts a job, and says what to redraw.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "../model/format.hpp"
#include "../model/local_dir.hpp"
#include "../view/layout.hpp"
#include "../view/terminal.hpp"
#include "app.hpp"
#include "sfts/files.hpp"

namespace sfts::tui {

namespace {

std::string names_text(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < 8; ++i) out += "\n  " + printable(names[i]);
    if (names.size() > 8) out += "\n  ... and " + std::to_string(names.size() - 8) + " more";
    return out;
}

std::string files(std::size_t n) { return plural(n, "file", "files"); }

}  // namespace

int App::list_rows() const {
    return term_ ? main_layout(term_->rows(), term_->cols(), ui_.show_log).list_rows : 10;
}

void App::load_local(const std::string& dir) {
    try {
        std::string abs = absolute_dir(dir);
        auto entries = list_local(abs);
        Pane& p = ui_.pane(Side::local);
        std::string came_from;
        if (abs != ui_.local_dir) {  // a new directory: its own cursor, no marks, no filter
            if (ui_.local_dir.rfind(abs, 0) == 0) came_from = ui_.local_dir.substr(ui_.local_dir.rfind('/') + 1);
            p = Pane{};
        }
        ui_.local_dir = abs;
        p.set_entries(std::move(entries));
        if (!came_from.empty()) p.select(came_from);
    } catch (const Error& e) {
        message(Dialog::Kind::error, "Cannot open directory", printable(e.what()));
    }
}

Reaction App::help_action() {
    Dialog& d = push(Dialog::Kind::info, "Help", {});
    // Escaped here: the names come from the server.
    for (auto& l : main_help(ui_.session.commands, ui_.active == Side::remote)) d.lines.push_back(printable(l));
    return react_refresh;
}

Reaction App::on_main_key(Key k) {
    Pane& p = ui_.pane(ui_.active);
    Action action = lookup(Context::main, k);
    bool remote = ui_.active == Side::remote;
    if (!role_allows(action, remote, ui_.session.commands)) {
        // Not offered (no key on the bar, marked in the help): say why instead of asking first
        // and letting the server refuse.
        status(std::string("Your role may not ") + needed_command(action, remote) + " on this server (F1: what it may do)");
        return react_refresh;
    }
    switch (action) {
        case Action::switch_pane:
            ui_.active = ui_.active == Side::local ? Side::remote : Side::local;
            return react_refresh;
        case Action::up: p.move(-1); return react_refresh;
        case Action::down: p.move(1); return react_refresh;
        case Action::page_up: p.page(-1, static_cast<std::size_t>(list_rows())); return react_refresh;
        case Action::page_down: p.page(1, static_cast<std::size_t>(list_rows())); return react_refresh;
        case Action::home: p.home(); return react_refresh;
        case Action::end: p.end(); return react_refresh;
        case Action::open: return open_entry();
        case Action::parent: return go_parent();
        case Action::transfer: return start_transfer_action();
        case Action::mark: return p.toggle_mark() ? react_refresh : react_none;
        case Action::remove: return remove_action();
        case Action::passwd: return passwd_action();
        case Action::help: return help_action();
        case Action::filter: return filter_action();
        case Action::refresh:
            load_local(ui_.local_dir);
            status("Logging in again to reload the listing and your role...");
            worker_.post(RefreshJob{});
            return react_refresh;
        case Action::toggle_log: ui_.show_log = !ui_.show_log; return react_redraw;
        case Action::redraw: return react_redraw;
        case Action::quit: return quit_action();
        default: return react_none;
    }
}

Reaction App::on_progress_key(Key k) {
    switch (lookup(Context::progress, k)) {
        case Action::cancel_transfer:
            if (ui_.transfer->cancel_requested) return react_none;
            ask("Cancel the transfer?",
                "The file being transferred is dropped: no partial file is kept on either side. Files already "
                "transferred stay.",
                {"Cancel transfer", "Continue"}, 1,
                [this](bool yes) {
                    if (yes && ui_.transfer) {
                        ui_.transfer->cancel_requested = true;
                        worker_.cancel_transfer();
                    }
                    return react_refresh;
                },
                "cancel-transfer");
            return react_refresh;
        case Action::help: return help_action();
        case Action::toggle_log: ui_.show_log = !ui_.show_log; return react_redraw;
        case Action::redraw: return react_redraw;
        default: return react_none;
    }
}

Reaction App::open_entry() {
    if (ui_.active != Side::local) return react_none;  // the server has one flat directory
    const Entry* e = ui_.pane(Side::local).current();
    if (!e || !e->dir) return react_none;
    load_local(enter_dir(ui_.local_dir, e->name));
    return react_refresh;
}

Reaction App::go_parent() {
    if (ui_.active != Side::local || ui_.local_dir == "/") return react_none;
    load_local(enter_dir(ui_.local_dir, ".."));
    return react_refresh;
}

Reaction App::start_transfer_action() {
    bool upload = ui_.active == Side::local;
    auto selection = ui_.pane(ui_.active).selection();
    if (selection.empty()) {
        message(Dialog::Kind::info, upload ? "Upload" : "Download",
                "Nothing to " + std::string(upload ? "upload" : "download") +
                    ": put the cursor on a file, or mark several with Insert.");
        return react_refresh;
    }
    std::vector<TransferSpec> items;
    std::vector<std::string> conflicts;
    for (const auto& e : selection) {
        TransferSpec s{join_path(ui_.local_dir, e.name), e.name, e.size, false};
        bool exists = false;
        if (upload) {
            for (const auto& r : ui_.pane(Side::remote).entries()) exists = exists || r.name == e.name;
        } else {
            exists = file_exists(s.local_path);
        }
        if (exists) conflicts.push_back(e.name);
        items.push_back(std::move(s));
    }
    if (conflicts.empty()) {
        start_transfer(upload, std::move(items));
        return react_refresh;
    }
    std::string where = upload ? "on the server" : "in " + printable(ui_.local_dir);
    std::string text = files(conflicts.size()) + (conflicts.size() == 1 ? " already exists " : " already exist ") +
                       where + ":" + names_text(conflicts) + "\n\nOverwrite?";
    ask("Overwrite?", text, {"Overwrite", "Cancel"}, 1, [this, upload, items, conflicts](bool yes) mutable {
            if (!yes) return react_refresh;
            for (auto& i : items)
                i.overwrite = std::find(conflicts.begin(), conflicts.end(), i.remote_name) != conflicts.end();
            start_transfer(upload, std::move(items));
            return react_refresh;
        });
    return react_refresh;
}

void App::start_transfer(bool upload, std::vector<TransferSpec> items) {
    std::vector<TransferItem> shown;
    for (const auto& i : items) shown.push_back({i.remote_name, i.size});
    ui_.transfer.emplace(TransferState{upload, TransferProgress(std::move(shown), now()), 0, false, 0, 0, {}});
    ui_.transfer->last_seq = worker_.progress().seq;
    log(std::string(upload ? "upload " : "download ") + files(items.size()) + " started");
    ui_.pane(upload ? Side::local : Side::remote).clear_marks();
    worker_.post(TransferJob{upload, std::move(items)});
}

Reaction App::remove_action() {
    auto selection = ui_.pane(ui_.active).selection();
    if (selection.empty()) return react_none;
    std::vector<std::string> names;
    for (const auto& e : selection) names.push_back(e.name);
    bool remote = ui_.active == Side::remote;
    std::string text = "Delete " + files(names.size()) + (remote ? " on the server?" : " in " + printable(ui_.local_dir) + "?") +
                       names_text(names);
    ask("Delete", text, {"Delete", "Cancel"}, 1, [this, remote, names, selection](bool yes) {
        if (!yes) return react_refresh;
        ui_.pane(remote ? Side::remote : Side::local).clear_marks();
        if (remote) worker_.post(DeleteJob{names});
        else remove_local(selection);
        return react_refresh;
    });
    return react_refresh;
}

void App::remove_local(const std::vector<Entry>& files_to_remove) {
    for (const auto& e : files_to_remove) {
        std::string path = join_path(ui_.local_dir, e.name);
        if (::unlink(path.c_str()) != 0) {
            message(Dialog::Kind::error, "Cannot delete", printable(path) + ": " + std::strerror(errno));
            break;
        }
        log("deleted local " + path);
    }
    load_local(ui_.local_dir);
}

Reaction App::passwd_action() {
    Dialog& d = push(Dialog::Kind::form, "Change password",
                     {"Type your current password (the server checks it), then a new one: at least 8 characters, "
                      "not a common or breached one. Nothing you type is shown."});
    d.form.add_hidden("Current password");
    d.form.add_hidden("New password");
    d.form.add_hidden("Repeat");
    d.on_close = [this](Dialog& dlg, bool ok) {
        if (!ok) return react_refresh;
        Secret &current = dlg.form[0].secret, &fresh = dlg.form[1].secret;
        if (current.empty() || fresh.empty() || fresh.view() != dlg.form[2].secret.view()) {
            dlg.lines = {current.empty() ? "Type your current password."
                         : fresh.empty() ? "Type a new password."
                                         : "The two new passwords differ; type them again."};
            std::size_t from = current.empty() ? 0 : 1;
            for (std::size_t i = from; i < 3; ++i) dlg.form[i].secret.wipe();
            dlg.form.set_focus(from);
            dlg.keep_open = true;
            return react_refresh;
        }
        dlg.form[2].secret.wipe();
        status("Changing the password...");
        worker_.post(PasswdJob{std::move(current), std::move(fresh)});
        return react_refresh;
    };
    return react_refresh;
}

Reaction App::filter_action() {
    Side side = ui_.active;
    std::string before = ui_.pane(side).filter();
    // Starts empty: typing gives a new filter at once; Esc puts the old one back, and Enter on an
    // empty field shows everything again.
    Dialog& d = push(Dialog::Kind::form, "Filter",
                     {"Show only names containing the text, or matching a pattern such as *.pdf. Empty: show all."});
    d.form.add("Filter", "");
    d.on_change = [this, side](Dialog& dlg) { ui_.pane(side).set_filter(dlg.form[0].text); };
    d.on_close = [this, side, before](Dialog& dlg, bool ok) {
        ui_.pane(side).set_filter(ok ? dlg.form[0].text : before);
        return react_refresh;
    };
    return react_refresh;
}

Reaction App::quit_action() {
    ask("Quit", "Quit sfts-tui?", {"Quit", "Stay"}, 0, [this](bool yes) {
        if (!yes) return react_refresh;
        quitting_ = true;
        quit_deadline_ = now() + 5;
        worker_.post(CloseJob{});  // says exit to the server; Closed ends the loop
        return react_refresh;
    });
    return react_refresh;
}

}  // namespace sfts::tui
