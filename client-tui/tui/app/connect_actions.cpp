// The connect screen: the form, recent servers, enrollment on first use, and the password
// dialogs the server's hello asks for.
#include <memory>

#include "../model/format.hpp"

#include "app.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/pin.hpp"

namespace sfts::tui {

namespace {

using Kind = hsm::SecretSource::Kind;

int port_of(const std::string& label, const std::string& v) {
    try {
        std::size_t used = 0;
        int p = std::stoi(v, &used);
        if (used == v.size() && p > 0 && p < 65536) return p;
    } catch (const std::exception&) {
    }
    fail(Errc::invalid_argument, label + " must be a port number (1-65535)");
}

bool enrolled(const client::ClientConfig& cfg) { return file_exists(cfg.cert_path()) && file_exists(cfg.ca_path()); }

}  // namespace

void App::init_connect_form() {
    Form f;
    const auto& c = base_cfg_;
    f.add("Server host", c.host);
    f.add("File port", std::to_string(c.file_port));
    f.add("Enroll port", std::to_string(c.enroll_port));
    f.add("Token URI", c.token.to_string());
    f.add("PKCS#11 module", c.module);
    f.add("Key label", c.key_label);
    // A PIN or password the configuration names a file or variable for is read from there (how
    // scripted sessions log in); otherwise it is typed here, unseen.
    if (c.pin.kind == Kind::prompt) f.add_hidden("Token PIN");
    else f.add_locked("Token PIN", "from " + c.pin.describe());
    if (c.password.kind == Kind::prompt) {
        f.add_hidden("Password");
        f[f_password].note = "(not shown; leave empty on first login)";
    } else {
        f.add_locked("Password", "from " + c.password.describe());
    }
    f[f_pin].note = f[f_pin].locked ? f[f_pin].note : "(not shown)";
    f.set_focus(f[f_pin].locked ? f_host : f_pin);  // everything else usually comes from the configuration
    ui_.connect_form = std::move(f);
    ui_.recent_focus.reset();
    update_connect_note();
}

void App::update_connect_note() {
    ui_.connect_note = enrolled(base_cfg_) ? "Enrolled: certificate " + base_cfg_.cert_path()
                                            : "Not enrolled yet (no " + base_cfg_.cert_path() +
                                                  "): connecting starts the enrollment.";
}

client::ClientConfig App::config_from_form() {
    const Form& f = ui_.connect_form;
    client::ClientConfig c = base_cfg_;
    c.host = f[f_host].text;
    if (c.host.empty() || c.host.find_first_of(" /") != std::string::npos) fail(Errc::invalid_argument, "bad server host");
    c.file_port = port_of("File port", f[f_file_port].text);
    c.enroll_port = port_of("Enroll port", f[f_enroll_port].text);
    c.token = hsm::ObjectUri::parse(f[f_token].text);
    c.module = f[f_module].text;
    if (f[f_key_label].text.empty()) fail(Errc::invalid_argument, "the key label is empty");
    c.key_label = f[f_key_label].text;
    return c;
}

Reaction App::on_connect_key(Key k) {
    Form& f = ui_.connect_form;
    auto& rf = ui_.recent_focus;
    switch (lookup(Context::connect, k)) {
        case Action::next_field:
            if (rf) {
                if (*rf + 1 < ui_.recent.size()) ++*rf;
                else rf.reset();
            } else if (f.at_last() && !ui_.recent.empty()) {
                rf = 0;
            } else {
                f.next();
            }
            return react_refresh;
        case Action::prev_field:
            if (rf) {
                if (*rf == 0) rf.reset();
                else --*rf;
            } else if (f.at_first() && !ui_.recent.empty()) {
                rf = ui_.recent.size() - 1;
            } else {
                f.prev();
            }
            return react_refresh;
        case Action::submit:
            if (rf) {
                use_recent(*rf);
                return react_refresh;
            }
            return submit_connect();
        case Action::erase:
            if (!rf) f.erase();
            return react_refresh;
        case Action::help: {
            std::vector<std::string> lines = {"Keys on this screen:"};
            for (auto& l : key_help(Context::connect)) lines.push_back("  " + l);
            push(Dialog::Kind::info, "Help", std::move(lines));
            return react_refresh;
        }
        case Action::quit:
            ask("Quit", "Quit sfts-tui?", {"Quit", "Stay"}, 0, [](bool yes) { return yes ? react_quit : react_refresh; });
            return react_refresh;
        case Action::redraw: return react_redraw;
        default:
            if (rf || !is_text(k)) return react_none;
            f.insert(key_text(k));
            return react_refresh;
    }
}

void App::use_recent(std::size_t i) {
    const RecentServer& s = ui_.recent[i];
    Form& f = ui_.connect_form;
    f[f_host].text = s.host;
    f[f_file_port].text = std::to_string(s.file_port);
    f[f_enroll_port].text = std::to_string(s.enroll_port);
    f[f_token].text = s.token_uri;
    if (!s.module.empty()) f[f_module].text = s.module;
    if (!s.key_label.empty()) f[f_key_label].text = s.key_label;
    ui_.recent_focus.reset();
    f.set_focus(f[f_pin].locked ? f_host : f_pin);
}

Reaction App::submit_connect() {
    if (worker_.busy()) return react_none;
    Form& f = ui_.connect_form;
    client::ClientConfig cfg;
    Secret pin, password;
    try {
        cfg = config_from_form();
        if (f[f_pin].locked) pin = hsm::read_secret(cfg.pin, "");
        else pin = std::move(f[f_pin].secret);
        if (!f[f_password].locked) password = std::move(f[f_password].secret);
    } catch (const Error& e) {
        message(Dialog::Kind::error, "Cannot connect", printable(e.what()));
        return react_refresh;
    }
    f[f_pin].secret.wipe();
    f[f_password].secret.wipe();
    if (pin.empty()) {
        message(Dialog::Kind::error, "PIN needed", "Type the PIN of your token (it is not shown while you type).");
        f.set_focus(f_pin);
        return react_refresh;
    }
    cfg_ = cfg;
    if (!enrolled(cfg)) return ask_enrollment(std::move(cfg), std::move(pin));
    ui_.connect_status = "Connecting to " + cfg.host + ":" + std::to_string(cfg.file_port) + "...";
    worker_.post(ConnectJob{std::move(cfg), std::move(pin), std::move(password), {}});
    return react_refresh;
}

Reaction App::ask_enrollment(client::ClientConfig cfg, Secret pin) {
    Dialog& d = push(Dialog::Kind::form, "Enrollment",
                     {"No certificate in " + printable(cfg.dir) + " yet. Enrolling makes a key pair inside your token, sends "
                      "a certificate request signed by it, and stores the certificate the server issues.",
                      "Give the site's enrollment secret, or the one-time token id and secret from your "
                      "administrator. Secrets are not shown."});
    d.form.add("User name", cfg.user);
    d.form.add("Token id", "");
    d.form.add_hidden("Secret");
    d.form[1].note = "(empty: site secret)";
    if (!cfg.user.empty()) d.form.set_focus(2);
    // std::function must be copyable; the PIN is not, so the callback shares one owner.
    auto held = std::make_shared<Secret>(std::move(pin));
    d.on_close = [this, cfg, held](Dialog& dlg, bool ok) mutable {
        if (!ok) {
            held->wipe();
            return react_refresh;
        }
        if (dlg.form[0].text.empty() || dlg.form[2].secret.empty()) {
            dlg.lines = {"Both the user name and the secret are needed."};
            dlg.keep_open = true;
            return react_refresh;
        }
        cfg.user = dlg.form[0].text;
        EnrollJob job{cfg, std::move(*held), {}};
        if (!dlg.form[1].text.empty()) {
            job.request.kind = proto::SecretKind::enrollment_token;
            job.request.token_id = dlg.form[1].text;
        }
        job.request.secret = std::move(dlg.form[2].secret);
        ui_.connect_status = "Enrolling " + cfg.user + " at " + cfg.host + ":" + std::to_string(cfg.enroll_port) +
                             " (making a key in the token)...";
        cfg_ = cfg;
        worker_.post(std::move(job));
        return react_refresh;
    };
    return react_refresh;
}

Reaction App::ask_password(NeedSecret::What what, bool refused) {
    bool first = what == NeedSecret::What::new_password;
    Dialog& d = push(Dialog::Kind::form, first ? "Choose your password" : refused ? "Wrong password" : "Password",
                     {first ? "This account has no password yet. Choose one: at least 8 characters, not a common or "
                              "breached one. Nothing you type is shown."
                      : refused ? "The server refused the password. Type it again (the token PIN is kept; it is not "
                                  "asked again). Nothing you type is shown."
                                : "Your password for " + printable(cfg_.host) + " (not shown while you type)."});
    d.form.add_hidden(first ? "New password" : "Password");
    if (first) d.form.add_hidden("Repeat");
    ui_.connect_status.clear();
    d.on_close = [this, first](Dialog& dlg, bool ok) {
        if (!ok) return react_refresh;
        Secret& pw = dlg.form[0].secret;
        if (pw.empty() || (first && pw.view() != dlg.form[1].secret.view())) {
            dlg.lines = {pw.empty() ? "Type a password." : "The two passwords differ; type them again."};
            for (auto& f : dlg.form.fields()) f.secret.wipe();
            dlg.form.set_focus(0);
            dlg.keep_open = true;
            return react_refresh;
        }
        ConnectJob job{cfg_, {}, {}, {}};
        (first ? job.new_password : job.password) = std::move(pw);
        ui_.connect_status = "Logging in...";
        worker_.post(std::move(job));
        return react_refresh;
    };
    return react_refresh;
}

void App::on_connected(Connected& c) {
    ui_.screen = UiState::Screen::main;
    ui_.session = {c.user, c.certificate, c.server, c.commands};
    ui_.connect_status.clear();
    ui_.active = Side::local;
    ui_.pane(Side::remote) = Pane{};
    load_local(ui_.local_dir);
    log("connected to " + c.server + " as " + c.user + " (" + c.certificate + ")");
    ui_.status = "Connected to " + printable(c.server) + " as " + printable(c.user);
    try {
        RecentServer s{cfg_.host, cfg_.file_port, cfg_.enroll_port, cfg_.token.to_string(), cfg_.module, cfg_.key_label};
        ui_.recent = remember(ui_.recent, s);
        save_recent(recent_path(), ui_.recent);
    } catch (const Error& e) {
        log("recent servers not saved: " + std::string(e.what()));
    }
    bool may_list = false;
    for (const auto& cmd : c.commands) may_list = may_list || cmd == "ls";
    if (!may_list) {
        std::string cmds;
        for (const auto& cmd : c.commands) cmds += " " + printable(cmd);
        message(Dialog::Kind::info, "Limited role",
                "Your role may not list files. The server allows:" + cmds +
                    (c.commands.size() <= 3 ? "\n\nIf your password must be changed, press F2." : ""));
    }
}

void App::to_connect_screen(const std::string& why) {
    ui_.screen = UiState::Screen::connect;
    ui_.session = {};
    ui_.status.clear();
    ui_.transfer.reset();
    ui_.pane(Side::remote) = Pane{};
    ui_.connect_status = why;
    update_connect_note();
    Form& f = ui_.connect_form;
    f[f_pin].secret.wipe();
    f[f_password].secret.wipe();
    f.set_focus(f[f_pin].locked ? f_host : f_pin);
}

}  // namespace sfts::tui
