// What the UI thread asks of the network thread, and what comes back. The network thread owns
// the client::Session (not thread-safe) and is the only one that drives it.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "../model/entry.hpp"
#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/secret.hpp"

namespace sfts::tui {

// --- jobs (UI -> worker)

struct ConnectJob {
    client::ClientConfig cfg;
    Secret pin;           // empty: the one of the previous attempt (after a NeedSecret)
    Secret password;      // empty: from cfg.password when that is a file or variable, else asked
    Secret new_password;  // for an account without a password yet
};

struct EnrollJob {  // then connects with the same PIN
    client::ClientConfig cfg;
    Secret pin;
    client::EnrollRequest request;
};

struct ListJob {};
// Logs in again on a new connection with the PIN and password of this session (the server fixes
// the role at login), then reports the role's commands and the listing anew.
struct RefreshJob {};
struct CloseJob {};

struct TransferSpec {
    std::string local_path;
    std::string remote_name;
    std::uint64_t size = 0;  // for the progress window; the library measures again
    bool overwrite = false;
};

struct TransferJob {
    bool upload = true;
    std::vector<TransferSpec> items;
};

struct DeleteJob {
    std::vector<std::string> names;
};

struct PasswdJob {
    Secret current_password;  // typed again: the server checks it
    Secret new_password;
};

using Job = std::variant<ConnectJob, EnrollJob, ListJob, RefreshJob, CloseJob, TransferJob, DeleteJob, PasswdJob>;

// --- events (worker -> UI)

struct NeedSecret {
    enum class What { password, new_password } what;
    bool refused = false;  // the server refused the password just given (the PIN is kept)
};

struct Enrolled {
    std::string summary;
};

struct Connected {
    std::string user;
    std::string certificate;  // subject, serial, expiry
    std::string server;       // host:port
    std::vector<std::string> commands;
};

struct Listed {
    std::vector<Entry> entries;
};

struct Refreshed {  // logged in again: the role's commands now (a Listed follows)
    std::vector<std::string> commands;
};

struct FileDone {
    bool upload = true;
    std::string name;
    std::uint64_t size = 0;
    std::string sha256_hex;
};

struct TransferEnded {
    bool upload = true;
    bool cancelled = false;
    std::string cancelled_name;
    std::uint64_t cancelled_at = 0;  // bytes of that file done when it stopped
    std::uint64_t cancelled_size = 0;
};

struct Deleted {
    std::string name;
};

struct PasswordChanged {};

struct Info {
    std::string text;
};

struct Failed {
    std::string what;  // "upload 'a.txt'"
    Errc kind = Errc::internal;
    std::string message;
    bool fatal = false;  // the session is gone: back to the connect screen
};

struct Closed {};

using Event = std::variant<NeedSecret, Enrolled, Connected, Listed, Refreshed, FileDone, TransferEnded, Deleted,
                           PasswordChanged, Info, Failed, Closed>;

// The latest progress of the running transfer: overwritten, not queued (a chunk is 1 MiB, so a
// fast link reports hundreds of times a second; the screen needs a few).
struct ProgressSample {
    std::size_t index = 0;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    std::uint64_t seq = 0;  // changes with every report
};

// Errors after which the connection cannot be trusted to be in step with the server.
bool is_fatal(Errc kind);

}  // namespace sfts::tui
