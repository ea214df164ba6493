// Which message may come next. Both sides follow the same conversation table (session.cpp,
// and docs/protocol.md "State machines"); each side checks the messages it receives and,
// to catch its own bugs, the ones it sends. The table knows types only, never contents:
// ok and error are distinct message types for exactly that reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sfts/protocol/message_type.hpp"

namespace sfts::proto {

enum class State : std::uint8_t {
    expect_hello,
    server_hello_pending,
    // Enrollment service.
    expect_enroll_start,
    challenge_pending,
    expect_csr,
    result_pending,
    expect_confirm,   // enroll_result sent: the client verifies, then enroll_confirm
    confirm_pending,  // enroll_confirm sent: ok_reply (final) or error_reply next
    // File service: login.
    authenticating,
    scram_server_first_pending,
    expect_scram_client_final,
    scram_server_final_pending,
    initial_password_pending,
    // File service: commands, one at a time.
    authenticated,
    reply_pending,  // delete or update_password: ok_reply or error_reply next
    list_pending,
    help_pending,
    upload_begin_pending,
    in_upload,
    upload_end_pending,
    batch_begin_pending,
    in_batch,
    batch_end_pending,
    download_pending,
    in_download,
    download_aborting,  // abort sent; chunks already in flight are dropped until ok_reply
    abort_pending,
    renew_pending,  // renew_request sent: renew_result or error_reply next
    exit_pending,
    closed,
};

std::string_view state_name(State s) noexcept;

// The state after message t in state s, or nothing if t is not allowed there. Includes the
// fatal-error rule: an error_reply with no row of its own closes the conversation.
std::optional<State> next_state(Service service, State s, MsgType t) noexcept;

class Session {
public:
    Session(Side self, Service service) noexcept : self_(self), service_(service) {}

    // Error(protocol) if t is out of order or comes from the wrong side; the session is
    // then closed and every later call throws too.
    void on_receive(MsgType t);
    void on_send(MsgType t);

    State state() const noexcept { return state_; }
    bool closed() const noexcept { return state_ == State::closed; }
    Side side() const noexcept { return self_; }
    Service service() const noexcept { return service_; }

private:
    void step(Side sender, MsgType t);

    Side self_;
    Service service_;
    State state_ = State::expect_hello;
};

}  // namespace sfts::proto
