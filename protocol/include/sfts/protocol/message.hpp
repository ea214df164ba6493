// Every message as one variant, and the two directions of the codec:
// frame -> message (decode_message) and message -> frame bytes (encode_message).
#pragma once

#include <concepts>
#include <variant>

#include "sfts/protocol/frame.hpp"
#include "sfts/protocol/messages_auth.hpp"
#include "sfts/protocol/messages_batch.hpp"
#include "sfts/protocol/messages_commands.hpp"
#include "sfts/protocol/messages_common.hpp"
#include "sfts/protocol/messages_enroll.hpp"
#include "sfts/protocol/messages_renew.hpp"
#include "sfts/protocol/messages_transfer.hpp"

namespace sfts::proto {

using Message = std::variant<                                                  //
    Hello, ServerHello, OkReply, ErrorReply,                                   //
    EnrollStart, EnrollChallenge, EnrollCsr, EnrollResult, EnrollConfirm,      //
    ScramClientFirst, ScramServerFirst, ScramClientFinal, ScramServerFinal,    //
    SetInitialPassword,                                                        //
    UploadBegin, UploadChunk, UploadEnd, UploadReceipt,                        //
    BatchBegin, BatchFile, BatchEnd, BatchReceipt,                             //
    DownloadRequest, DownloadHeader, DownloadChunk, DownloadEnd, TransferAbort,  //
    ListRequest, ListPage, DeleteRequest, UpdatePassword, HelpRequest, HelpReply,
    ExitRequest, RenewRequest, RenewResult>;

template <typename M>
concept WireMessage = requires(const M& m, ByteView body) {
    { M::type } -> std::convertible_to<MsgType>;
    { m.encode() } -> std::same_as<Bytes>;
    { M::decode(body) } -> std::same_as<M>;
};

// Dispatches on frame.type through the one message table. Unknown type, malformed body or
// trailing bytes: Error(protocol); a field over its limit: Error(limit_exceeded).
Message decode_message(const Frame& frame);
// The same; a chunk takes the frame's body as its data instead of copying it.
Message decode_message(Frame&& frame);

MsgType type_of(const Message& m) noexcept;

// Messages that carry a password: the caller wipe()s their frame bytes after use.
bool carries_secret(MsgType t) noexcept;

// Complete frame bytes (header + body).
template <WireMessage M>
Bytes encode_message(const M& m) {
    Bytes body = m.encode();
    Bytes frame = encode_frame(M::type, body);
    if (carries_secret(M::type)) wipe(body);
    return frame;
}
Bytes encode_message(const Message& m);

}  // namespace sfts::proto
