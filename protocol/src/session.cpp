#include "sfts/protocol/session.hpp"

#include <array>
#include <string>

#include "sfts/error.hpp"

namespace sfts::proto {
namespace {

using enum State;
using T = MsgType;

struct Transition {
    Service service;
    State from;
    MsgType type;
    State to;
};

constexpr auto E = Service::enroll;
constexpr auto F = Service::file;

// The conversation, read top to bottom. A type's sender is fixed (message.cpp), so the
// table needs no direction column.
constexpr std::array transitions{
    Transition{E, expect_hello, T::hello, server_hello_pending},
    Transition{E, server_hello_pending, T::server_hello, expect_enroll_start},
    Transition{E, expect_enroll_start, T::enroll_start, challenge_pending},
    Transition{E, challenge_pending, T::enroll_challenge, expect_csr},
    Transition{E, expect_csr, T::enroll_csr, result_pending},
    // Two-phase: the server makes nothing final until the client, having verified the server's
    // proof, confirms (docs/protocol.md 4.2).
    Transition{E, result_pending, T::enroll_result, expect_confirm},
    Transition{E, expect_confirm, T::enroll_confirm, confirm_pending},
    Transition{E, confirm_pending, T::ok_reply, closed},

    Transition{F, expect_hello, T::hello, server_hello_pending},
    Transition{F, server_hello_pending, T::server_hello, authenticating},
    Transition{F, authenticating, T::scram_client_first, scram_server_first_pending},
    Transition{F, scram_server_first_pending, T::scram_server_first, expect_scram_client_final},
    Transition{F, expect_scram_client_final, T::scram_client_final, scram_server_final_pending},
    Transition{F, scram_server_final_pending, T::scram_server_final, authenticated},
    // The new password is set, then the client logs in with it like any other time.
    Transition{F, authenticating, T::set_initial_password, initial_password_pending},
    Transition{F, initial_password_pending, T::ok_reply, authenticating},
    Transition{F, authenticating, T::exit_request, exit_pending},

    Transition{F, authenticated, T::upload_begin, upload_begin_pending},
    Transition{F, upload_begin_pending, T::ok_reply, in_upload},
    Transition{F, upload_begin_pending, T::error_reply, authenticated},
    Transition{F, in_upload, T::upload_chunk, in_upload},
    Transition{F, in_upload, T::upload_end, upload_end_pending},
    Transition{F, in_upload, T::transfer_abort, abort_pending},
    Transition{F, upload_end_pending, T::upload_receipt, authenticated},
    Transition{F, upload_end_pending, T::error_reply, authenticated},

    // A batch: the files follow the go-ahead with no reply each (docs/protocol.md 4.4.1).
    Transition{F, authenticated, T::batch_begin, batch_begin_pending},
    Transition{F, batch_begin_pending, T::ok_reply, in_batch},
    Transition{F, batch_begin_pending, T::error_reply, authenticated},
    Transition{F, in_batch, T::batch_file, in_batch},
    Transition{F, in_batch, T::batch_end, batch_end_pending},
    Transition{F, in_batch, T::transfer_abort, abort_pending},
    Transition{F, batch_end_pending, T::batch_receipt, authenticated},
    Transition{F, batch_end_pending, T::error_reply, authenticated},

    Transition{F, authenticated, T::download_request, download_pending},
    Transition{F, download_pending, T::download_header, in_download},
    Transition{F, download_pending, T::error_reply, authenticated},
    Transition{F, in_download, T::download_chunk, in_download},
    Transition{F, in_download, T::download_end, authenticated},
    Transition{F, in_download, T::error_reply, authenticated},  // e.g. a read error mid-file
    Transition{F, in_download, T::transfer_abort, download_aborting},
    // What the server sent before it saw the abort is still on its way.
    Transition{F, download_aborting, T::download_chunk, download_aborting},
    Transition{F, download_aborting, T::download_end, download_aborting},
    Transition{F, download_aborting, T::error_reply, download_aborting},
    Transition{F, download_aborting, T::ok_reply, authenticated},
    // The server sees this when the abort crossed download_end on the wire; it still
    // answers, so the client's download_aborting always ends.
    Transition{F, authenticated, T::transfer_abort, abort_pending},
    Transition{F, abort_pending, T::ok_reply, authenticated},

    Transition{F, authenticated, T::list_request, list_pending},
    Transition{F, list_pending, T::list_page, authenticated},
    Transition{F, list_pending, T::error_reply, authenticated},
    Transition{F, authenticated, T::delete_request, reply_pending},
    Transition{F, authenticated, T::update_password, reply_pending},
    Transition{F, reply_pending, T::ok_reply, authenticated},
    Transition{F, reply_pending, T::error_reply, authenticated},
    Transition{F, authenticated, T::help_request, help_pending},
    Transition{F, help_pending, T::help_reply, authenticated},
    Transition{F, help_pending, T::error_reply, authenticated},
    Transition{F, authenticated, T::renew_request, renew_pending},
    Transition{F, renew_pending, T::renew_result, authenticated},
    Transition{F, renew_pending, T::error_reply, authenticated},
    Transition{F, authenticated, T::exit_request, exit_pending},
    Transition{F, exit_pending, T::ok_reply, closed},
};

constexpr std::array state_names{
    "expect_hello", "server_hello_pending", "expect_enroll_start", "challenge_pending",
    "expect_csr", "result_pending", "expect_confirm", "confirm_pending", "authenticating", "scram_server_first_pending",
    "expect_scram_client_final", "scram_server_final_pending", "initial_password_pending",
    "authenticated", "reply_pending", "list_pending", "help_pending", "upload_begin_pending",
    "in_upload", "upload_end_pending", "batch_begin_pending", "in_batch", "batch_end_pending",
    "download_pending", "in_download", "download_aborting",
    "abort_pending", "renew_pending", "exit_pending", "closed",
};
static_assert(state_names.size() == static_cast<std::size_t>(closed) + 1);

std::string_view side_name(Side s) { return s == Side::client ? "client" : "server"; }

}  // namespace

std::string_view state_name(State s) noexcept {
    const auto i = static_cast<std::size_t>(s);
    return i < state_names.size() ? state_names[i] : "unknown";
}

std::optional<State> next_state(Service service, State s, MsgType t) noexcept {
    for (const Transition& tr : transitions) {
        if (tr.service == service && tr.from == s && tr.type == t) return tr.to;
    }
    // The server may end any conversation with an error: a failed login, a bad version,
    // a storage failure mid-upload while the client is still sending chunks. It closes
    // the connection right after, so no state needs to follow.
    if (t == T::error_reply && s != closed) return closed;
    return std::nullopt;
}

void Session::on_receive(MsgType t) {
    step(self_ == Side::client ? Side::server : Side::client, t);
}

void Session::on_send(MsgType t) { step(self_, t); }

void Session::step(Side sender, MsgType t) {
    const State from = state_;
    const std::optional<Side> expected_sender = sender_of(t);
    std::optional<State> to;
    if (expected_sender == sender) to = next_state(service_, from, t);
    if (!to) {
        state_ = State::closed;
        fail(Errc::protocol, std::string(side_name(sender)) + " message " +
                                 std::string(message_name(t)) + " not allowed in " +
                                 std::string(service_name(service_)) + " state " +
                                 std::string(state_name(from)));
    }
    state_ = *to;
}

}  // namespace sfts::proto
