// The controller: reads keys, maps them through the keymap to actions, applies the worker's
// events to the model, and draws when an action or an event asks for it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../model/keymap.hpp"
#include "../model/reaction.hpp"
#include "../model/ui_state.hpp"
#include "../worker/worker.hpp"
#include "sfts/client/client.hpp"

namespace sfts::tui {

class Terminal;

struct Options {
    std::string config_path;
    bool config_given = false;
    std::string local_dir = ".";
};

class App {
public:
    explicit App(Options options);
    int run();  // the exit status

private:
    // The loop's two inputs.
    Reaction on_key(Key k);
    Reaction poll_worker();
    Reaction on_event(Event& e);

    // Dialogs.
    Dialog& push(Dialog::Kind kind, std::string title, std::vector<std::string> lines);
    void message(Dialog::Kind kind, std::string title, std::string text);
    void ask(std::string title, std::string text, std::vector<std::string> buttons, std::size_t focus,
             std::function<Reaction(bool yes)> then, std::string tag = {});
    Reaction on_dialog_key(Key k);
    Reaction close_top(bool accepted);
    void close_tagged(const std::string& tag);
    void show_error(const Failed& f);

    // The main screen (main_actions.cpp).
    Reaction on_main_key(Key k);
    Reaction on_progress_key(Key k);
    Reaction open_entry();
    Reaction go_parent();
    Reaction start_transfer_action();
    void start_transfer(bool upload, std::vector<TransferSpec> items);
    Reaction remove_action();
    void remove_local(const std::vector<Entry>& files);
    Reaction passwd_action();
    Reaction filter_action();
    Reaction quit_action();
    void load_local(const std::string& dir);
    int list_rows() const;

    // The connect screen (connect_actions.cpp).
    void init_connect_form();
    void update_connect_note();
    Reaction on_connect_key(Key k);
    Reaction submit_connect();
    Reaction ask_enrollment(client::ClientConfig cfg, Secret pin);
    Reaction ask_password(NeedSecret::What what, bool refused);
    void use_recent(std::size_t i);
    void on_connected(Connected& c);
    void to_connect_screen(const std::string& why);
    client::ClientConfig config_from_form();

    double now() const;
    void log(const std::string& text);      // raw text: the log panel escapes it
    void status(std::string text);          // display text: compose it from printable() parts
    Reaction help_action();

    Options options_;
    client::ClientConfig base_cfg_;  // from the configuration file
    client::ClientConfig cfg_;       // of the connection being made or in use
    UiState ui_;
    Terminal* term_ = nullptr;
    bool quitting_ = false;
    double quit_deadline_ = 0;
    Worker worker_;  // last: its thread stops before the state it reports into goes
};

}  // namespace sfts::tui
