// The message type byte of a frame, who may send each type, and which service a
// connection speaks. Names and senders come from the one dispatch table (message.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sfts::proto {

enum class MsgType : std::uint8_t {
    // Both services.
    hello = 0x01,
    server_hello = 0x02,
    ok_reply = 0x03,
    error_reply = 0x04,
    // Enrollment service (TCP 8444).
    enroll_start = 0x10,
    enroll_challenge = 0x11,
    enroll_csr = 0x12,
    enroll_result = 0x13,
    enroll_confirm = 0x14,
    // File service (TCP 8443): login.
    scram_client_first = 0x20,
    scram_server_first = 0x21,
    scram_client_final = 0x22,
    scram_server_final = 0x23,
    set_initial_password = 0x24,
    // File service: transfers.
    upload_begin = 0x30,
    upload_chunk = 0x31,
    upload_end = 0x32,
    upload_receipt = 0x33,
    batch_begin = 0x34,
    batch_file = 0x35,
    batch_end = 0x36,
    batch_receipt = 0x37,
    download_request = 0x38,
    download_header = 0x39,
    download_chunk = 0x3A,
    download_end = 0x3B,
    transfer_abort = 0x3F,
    // File service: other commands.
    list_request = 0x40,
    list_page = 0x41,
    delete_request = 0x48,
    update_password = 0x50,
    help_request = 0x58,
    help_reply = 0x59,
    exit_request = 0x60,
    // File service: certificate renewal.
    renew_request = 0x68,
    renew_result = 0x69,
};

enum class Side : std::uint8_t { client, server };

enum class Service : std::uint8_t { enroll = 1, file = 2 };

// "unknown" for a value that is not a message type.
std::string_view message_name(MsgType t) noexcept;
// Empty for a value that is not a message type.
std::optional<Side> sender_of(MsgType t) noexcept;

std::string_view service_name(Service s) noexcept;

}  // namespace sfts::proto
