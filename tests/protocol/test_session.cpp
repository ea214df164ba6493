#include <boost/test/unit_test.hpp>

#include <initializer_list>

#include "helpers.hpp"
#include "samples.hpp"
#include "sfts/protocol/session.hpp"

using namespace sfts::proto;
using namespace sfts::proto::test;
using sfts::Errc;
using T = MsgType;

namespace {

// Plays a conversation as seen by one side: its own messages are sent, the others received.
void play(Session& s, std::initializer_list<MsgType> types) {
    for (MsgType t : types) {
        if (sender_of(t) == s.side()) {
            s.on_send(t);
        } else {
            s.on_receive(t);
        }
    }
}

Session logged_in(Side side) {
    Session s(side, Service::file);
    play(s, {T::hello, T::server_hello, T::scram_client_first, T::scram_server_first,
             T::scram_client_final, T::scram_server_final});
    BOOST_REQUIRE((s.state() == State::authenticated));
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(sample_conversations_are_accepted_by_both_sides) {
    for (const Conversation& c :
         {enroll_conversation(), file_conversation(), initial_password_conversation(),
          abort_conversation(), batch_conversation()}) {
        for (Side side : {Side::client, Side::server}) {
            Session s(side, c.service);
            for (MsgType t : types_of(c.messages)) {
                BOOST_TEST_CONTEXT(message_name(t) << " in " << state_name(s.state())) {
                    BOOST_CHECK_NO_THROW(sender_of(t) == side ? s.on_send(t) : s.on_receive(t));
                }
            }
            BOOST_TEST(s.closed());
        }
    }
}

BOOST_AUTO_TEST_CASE(batch_files_only_inside_an_accepted_batch) {
    Session idle = logged_in(Side::server);
    SFTS_CHECK_ERRC(idle.on_receive(T::batch_file), Errc::protocol);

    Session early = logged_in(Side::server);  // before the go-ahead
    early.on_receive(T::batch_begin);
    SFTS_CHECK_ERRC(early.on_receive(T::batch_file), Errc::protocol);

    Session s = logged_in(Side::server);
    play(s, {T::batch_begin, T::ok_reply, T::batch_file, T::batch_file});
    BOOST_TEST((s.state() == State::in_batch));
    SFTS_CHECK_ERRC(s.on_receive(T::upload_chunk), Errc::protocol);  // not an upload

    Session end = logged_in(Side::server);
    play(end, {T::batch_begin, T::ok_reply, T::batch_end});
    SFTS_CHECK_ERRC(end.on_receive(T::batch_file), Errc::protocol);  // nothing after the end

    // The refusal at the end keeps the session; an error mid-stream ends it.
    Session refused = logged_in(Side::client);
    play(refused, {T::batch_begin, T::ok_reply, T::batch_file, T::batch_end, T::error_reply});
    BOOST_TEST((refused.state() == State::authenticated));
    Session broken = logged_in(Side::client);
    play(broken, {T::batch_begin, T::ok_reply, T::batch_file, T::error_reply});
    BOOST_TEST(broken.closed());
    // Only the server sends receipts.
    Session forged = logged_in(Side::server);
    play(forged, {T::batch_begin, T::ok_reply, T::batch_end});
    SFTS_CHECK_ERRC(forged.on_receive(T::batch_receipt), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(upload_before_login_rejected) {
    Session server(Side::server, Service::file);
    play(server, {T::hello, T::server_hello});
    SFTS_CHECK_ERRC(server.on_receive(T::upload_begin), Errc::protocol);
    BOOST_TEST(server.closed());
    // Closed for good: even a valid message now fails.
    SFTS_CHECK_ERRC(server.on_receive(T::scram_client_first), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(anything_before_hello_rejected) {
    for (MsgType t : {T::scram_client_first, T::upload_begin, T::exit_request, T::enroll_start}) {
        Session server(Side::server, Service::file);
        SFTS_CHECK_ERRC(server.on_receive(t), Errc::protocol);
    }
}

BOOST_AUTO_TEST_CASE(chunk_outside_upload_rejected) {
    Session server = logged_in(Side::server);
    SFTS_CHECK_ERRC(server.on_receive(T::upload_chunk), Errc::protocol);

    // Also before the server accepted the upload.
    Session s2 = logged_in(Side::server);
    s2.on_receive(T::upload_begin);
    SFTS_CHECK_ERRC(s2.on_receive(T::upload_chunk), Errc::protocol);

    // And after the end.
    Session s3 = logged_in(Side::server);
    play(s3, {T::upload_begin, T::ok_reply, T::upload_chunk, T::upload_end});
    SFTS_CHECK_ERRC(s3.on_receive(T::upload_chunk), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(one_command_at_a_time) {
    Session server = logged_in(Side::server);
    server.on_receive(T::list_request);
    SFTS_CHECK_ERRC(server.on_receive(T::delete_request), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(wrong_direction_rejected) {
    Session client(Side::client, Service::file);
    SFTS_CHECK_ERRC(client.on_receive(T::hello), Errc::protocol);  // a client never receives hello
    Session server(Side::server, Service::file);
    SFTS_CHECK_ERRC(server.on_send(T::hello), Errc::protocol);
    Session c2 = logged_in(Side::client);
    SFTS_CHECK_ERRC(c2.on_send(T::list_page), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(unknown_type_rejected) {
    Session server(Side::server, Service::file);
    SFTS_CHECK_ERRC(server.on_receive(static_cast<MsgType>(0x7E)), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(services_do_not_mix) {
    Session enroll(Side::server, Service::enroll);
    play(enroll, {T::hello, T::server_hello});
    SFTS_CHECK_ERRC(enroll.on_receive(T::scram_client_first), Errc::protocol);

    Session file(Side::server, Service::file);
    play(file, {T::hello, T::server_hello});
    SFTS_CHECK_ERRC(file.on_receive(T::enroll_start), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(enroll_order_enforced) {
    Session server(Side::server, Service::enroll);
    play(server, {T::hello, T::server_hello, T::enroll_start});
    // The CSR and proof may only come after the challenge.
    SFTS_CHECK_ERRC(server.on_receive(T::enroll_csr), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(enroll_is_final_only_after_the_confirmation) {
    Session server(Side::server, Service::enroll);
    play(server, {T::hello, T::server_hello, T::enroll_start, T::enroll_challenge, T::enroll_csr, T::enroll_result});
    BOOST_TEST(!server.closed());
    BOOST_TEST(state_name(server.state()) == "expect_confirm");
    // Nothing but the confirmation may follow the result.
    Session early = server;
    SFTS_CHECK_ERRC(early.on_receive(T::enroll_csr), Errc::protocol);
    server.on_receive(T::enroll_confirm);
    BOOST_TEST(state_name(server.state()) == "confirm_pending");
    Session refused = server;
    refused.on_send(T::error_reply);  // expired, token used meanwhile, bad proof
    BOOST_TEST(refused.closed());
    server.on_send(T::ok_reply);
    BOOST_TEST(server.closed());
    // A confirmation before the result is out of order.
    Session c(Side::client, Service::enroll);
    play(c, {T::hello, T::server_hello, T::enroll_start, T::enroll_challenge, T::enroll_csr});
    SFTS_CHECK_ERRC(c.on_send(T::enroll_confirm), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(failed_login_closes) {
    Session client(Side::client, Service::file);
    play(client, {T::hello, T::server_hello, T::scram_client_first, T::scram_server_first,
                  T::scram_client_final, T::error_reply});
    BOOST_TEST(client.closed());
}

BOOST_AUTO_TEST_CASE(initial_password_then_login) {
    Session server(Side::server, Service::file);
    play(server, {T::hello, T::server_hello, T::set_initial_password, T::ok_reply});
    BOOST_TEST((server.state() == State::authenticating));
    SFTS_CHECK_ERRC(server.on_receive(T::list_request), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(command_errors_keep_session) {
    Session client = logged_in(Side::client);
    play(client, {T::delete_request, T::error_reply, T::upload_begin, T::error_reply,
                  T::download_request, T::error_reply});
    BOOST_TEST((client.state() == State::authenticated));
}

BOOST_AUTO_TEST_CASE(mid_upload_error_is_fatal) {
    Session client = logged_in(Side::client);
    play(client, {T::upload_begin, T::ok_reply, T::upload_chunk, T::error_reply});
    BOOST_TEST(client.closed());
}

BOOST_AUTO_TEST_CASE(upload_abort) {
    for (Side side : {Side::client, Side::server}) {
        Session s = logged_in(side);
        play(s, {T::upload_begin, T::ok_reply, T::upload_chunk, T::transfer_abort, T::ok_reply});
        BOOST_TEST((s.state() == State::authenticated));
    }
}

BOOST_AUTO_TEST_CASE(download_abort_crossing_the_end) {
    // The client aborts while the server, not yet aware, finishes the download.
    Session client = logged_in(Side::client);
    play(client, {T::download_request, T::download_header, T::download_chunk});
    client.on_send(T::transfer_abort);
    play(client, {T::download_chunk, T::download_end, T::ok_reply});
    BOOST_TEST((client.state() == State::authenticated));

    Session server = logged_in(Side::server);
    play(server, {T::download_request, T::download_header, T::download_chunk,
                  T::download_chunk, T::download_end});
    BOOST_TEST((server.state() == State::authenticated));
    server.on_receive(T::transfer_abort);  // arrives after the end: still answered
    server.on_send(T::ok_reply);
    BOOST_TEST((server.state() == State::authenticated));
}

BOOST_AUTO_TEST_CASE(renewal_is_one_command) {
    for (Side side : {Side::client, Side::server}) {
        Session s = logged_in(side);
        play(s, {T::renew_request});
        BOOST_TEST((s.state() == State::renew_pending));
        play(s, {T::renew_result});
        BOOST_TEST((s.state() == State::authenticated));
        play(s, {T::renew_request, T::error_reply});  // refused: the session goes on
        BOOST_TEST((s.state() == State::authenticated));
    }
    // Only after login, only from the client, and one at a time.
    Session before(Side::server, Service::file);
    play(before, {T::hello, T::server_hello});
    SFTS_CHECK_ERRC(before.on_receive(T::renew_request), Errc::protocol);
    Session wrong_side = logged_in(Side::client);
    SFTS_CHECK_ERRC(wrong_side.on_receive(T::renew_request), Errc::protocol);
    Session pipelined = logged_in(Side::server);
    pipelined.on_receive(T::renew_request);
    SFTS_CHECK_ERRC(pipelined.on_receive(T::list_request), Errc::protocol);
    // Not on the enrollment service.
    Session enroll(Side::server, Service::enroll);
    play(enroll, {T::hello, T::server_hello});
    SFTS_CHECK_ERRC(enroll.on_receive(T::renew_request), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(exit_closes) {
    Session client = logged_in(Side::client);
    play(client, {T::exit_request, T::ok_reply});
    BOOST_TEST(client.closed());
    SFTS_CHECK_ERRC(client.on_send(T::help_request), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(closed_accepts_nothing) {
    for (std::uint8_t t = 0; t < 0xFF; ++t) {
        BOOST_TEST(!next_state(Service::file, State::closed, static_cast<MsgType>(t)).has_value());
        BOOST_TEST(!next_state(Service::enroll, State::closed, static_cast<MsgType>(t)).has_value());
    }
}

BOOST_AUTO_TEST_CASE(state_names) {
    BOOST_TEST(state_name(State::expect_hello) == "expect_hello");
    BOOST_TEST(state_name(State::download_aborting) == "download_aborting");
    BOOST_TEST(state_name(State::closed) == "closed");
}

BOOST_AUTO_TEST_SUITE_END()
