// Example messages and conversations shared by the protocol tests and the fuzz-corpus
// writer: one message of every type, with every field set to something non-default.
#pragma once

#include <vector>

#include "sfts/protocol/message.hpp"

namespace sfts::proto::test {

template <std::size_t N>
std::array<std::uint8_t, N> filled(std::uint8_t v) {
    std::array<std::uint8_t, N> a{};
    a.fill(v);
    return a;
}

CommandHeader sample_header(std::uint64_t request_id);

// Exactly one message of each type, in table order.
std::vector<Message> one_of_each();

// A whole conversation (client and server messages interleaved as they would be seen on
// the wire), each message encoded as a frame and concatenated.
struct Conversation {
    Service service;
    std::vector<Message> messages;
};
Conversation enroll_conversation();
Conversation file_conversation();             // login, help, list, upload, download, delete, update, exit
Conversation initial_password_conversation();  // set password, then SCRAM login, then exit
Conversation batch_conversation();            // batch stored, refused, aborted, failed at the end
Conversation abort_conversation();            // upload aborted, download aborted mid-stream, exit

Bytes encode_all(const std::vector<Message>& messages);
std::vector<MsgType> types_of(const std::vector<Message>& messages);

}  // namespace sfts::proto::test
