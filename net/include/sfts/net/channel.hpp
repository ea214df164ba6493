// Protocol messages over a TLS stream: the only place where the codec meets the network.
#pragma once

#include <memory>

#include "sfts/net/tls.hpp"
#include "sfts/protocol/frame.hpp"
#include "sfts/protocol/message.hpp"
#include "sfts/protocol/session.hpp"

namespace sfts::net {

class Channel {
public:
    Channel(std::unique_ptr<TlsStream> stream, proto::Side self, proto::Service service);

    // Checks the message against the conversation state, then sends it.
    void send(const proto::Message& m, Deadline deadline);
    // The same for a concrete message, without building a Message variant (no copy of a 1 MiB
    // chunk, and messages holding a Secret need not be copied at all).
    template <proto::WireMessage M>
    void send(const M& m, Deadline deadline) {
        proto::Bytes frame = proto::encode_message(m);
        send_encoded(M::type, frame, deadline);
    }
    // Sends an already encoded frame of the given type; wipes it afterwards if it carries a secret.
    void send_encoded(proto::MsgType type, proto::Bytes& frame, Deadline deadline) {
        struct Wipe {
            bool on;
            proto::Bytes& f;
            ~Wipe() {
                if (on) proto::wipe(f);
            }
        } wipe{proto::carries_secret(type), frame};
        session_.on_send(type);
        stream_->write_all(frame, deadline);
    }

    // A chunk frame whose data lies elsewhere (a mapped file): the header, then the data
    // straight from there; two TLS writes, no copy.
    void send_chunk(proto::MsgType type, proto::ByteView data, Deadline deadline) {
        const auto header = proto::chunk_frame_header(type, data.size());
        session_.on_send(type);
        stream_->write_all(header, deadline);
        stream_->write_all(data, deadline);
    }

    // The next message; Error(protocol) for malformed or out-of-order input, Error(io) when
    // the peer closed the connection (mid-frame or not), Error(timeout) at the deadline.
    // The deadline bounds the whole message, not each read: a peer dripping one byte a
    // second is cut off when it passes.
    proto::Message receive(Deadline deadline);
    // The same, waiting up to idle_deadline for a message to begin; once its first byte has
    // arrived, the whole frame must follow within frame_timeout (a client that starts a frame
    // and then drips one byte a second is cut off then, not at the idle deadline).
    proto::Message receive(Deadline idle_deadline, std::chrono::milliseconds frame_timeout);

    // Hands the data of a received chunk back once it is written and hashed: the next chunk
    // is read into the same memory. release_buffers() frees it (a transfer has ended).
    void recycle(proto::Bytes&& chunk_data) noexcept { decoder_.recycle(std::move(chunk_data)); }
    void release_buffers() noexcept { decoder_.release(); }

    TlsStream& tls() { return *stream_; }
    const proto::Session& session() const { return session_; }

private:
    std::unique_ptr<TlsStream> stream_;
    proto::Session session_;
    proto::FrameDecoder decoder_;
    proto::Message finish(proto::Frame& frame);

    std::vector<std::uint8_t> buffer_;  // bytes read but not yet fed to the decoder
    std::size_t buffer_pos_ = 0;        // [buffer_pos_, buffer_end_) is not yet fed
    std::size_t buffer_end_ = 0;
};

}  // namespace sfts::net
