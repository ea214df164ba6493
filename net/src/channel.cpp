#include "sfts/net/channel.hpp"

#include <openssl/crypto.h>

#include <string>

namespace sfts::net {

namespace {

// Larger than any TLS record (16 KiB of plaintext), so every read takes a whole record.
constexpr std::size_t kReadSize = 64 * 1024;
// A frame body with at least this much still to come (a chunk) is read straight into the
// frame, not through buffer_: one copy less per byte. Smaller messages go through buffer_,
// where one read may take several of them.
constexpr std::size_t kDirectRead = 16 * 1024;

// Wipes a received frame that held a password on every path out, exceptions included.
struct SecretGuard {
    bool active;
    proto::Bytes& frame;
    ~SecretGuard() {
        if (active) proto::wipe(frame);
    }
};

}  // namespace

Channel::Channel(std::unique_ptr<TlsStream> stream, proto::Side self, proto::Service service)
    : stream_(std::move(stream)), session_(self, service), buffer_(kReadSize) {
    SFTS_INVARIANT(stream_ != nullptr);
}

void Channel::send(const proto::Message& m, Deadline deadline) {
    // Encode before the state moves on: a message that cannot be encoded (invalid_argument,
    // limit_exceeded) left nothing on the wire, so the conversation state must not change.
    proto::Bytes frame = proto::encode_message(m);
    send_encoded(proto::type_of(m), frame, deadline);
}

proto::Message Channel::receive(Deadline deadline) { return receive(deadline, std::chrono::milliseconds::max()); }

proto::Message Channel::receive(Deadline idle_deadline, std::chrono::milliseconds frame_timeout) {
    Deadline deadline = idle_deadline;
    bool frame_started = decoder_.mid_frame() || buffer_pos_ < buffer_end_;
    auto start_frame_clock = [&] {
        if (frame_timeout == std::chrono::milliseconds::max()) return;
        deadline = std::min(idle_deadline, Clock::now() + frame_timeout);
    };
    if (frame_started) start_frame_clock();
    for (;;) {
        while (buffer_pos_ < buffer_end_) {
            const proto::ByteView pending(buffer_.data() + buffer_pos_, buffer_end_ - buffer_pos_);
            buffer_pos_ += decoder_.feed(pending);  // limit_exceeded here, before any body byte
            if (auto frame = decoder_.next()) return finish(*frame);
        }
        // One deadline for every read of this message: a peer dripping bytes cannot keep the
        // connection (and its worker) forever.
        if (decoder_.body_missing() >= kDirectRead) {
            const std::size_t n = stream_->read_some(decoder_.body_space(), deadline);
            if (n == 0)
                fail(Errc::io, "connection closed by peer mid-frame (" + std::to_string(decoder_.buffered()) +
                                   " bytes of it received)");
            decoder_.body_written(n);
            if (auto frame = decoder_.next()) return finish(*frame);
            continue;
        }
        const std::size_t n = stream_->read_some(buffer_, deadline);
        if (n == 0) {
            fail(Errc::io, decoder_.mid_frame() ? "connection closed by peer mid-frame (" +
                                                      std::to_string(decoder_.buffered()) + " bytes of it received)"
                                                : std::string("connection closed by peer"));
        }
        buffer_pos_ = 0;
        buffer_end_ = n;
        if (!frame_started) {
            frame_started = true;
            start_frame_clock();
        }
    }
}

proto::Message Channel::finish(proto::Frame& frame) {
    const proto::MsgType type = frame.type;
    const bool secret = proto::carries_secret(type);
    SecretGuard guard{secret, frame.body};
    if (secret) {
        // The password also passed through our read buffer: wipe what this and earlier frames
        // used, keeping only bytes not yet fed (they belong to the next frame).
        OPENSSL_cleanse(buffer_.data(), buffer_pos_);
        OPENSSL_cleanse(buffer_.data() + buffer_end_, buffer_.size() - buffer_end_);
    }
    const bool chunk = type == proto::MsgType::upload_chunk || type == proto::MsgType::download_chunk;
    proto::Message m = proto::decode_message(std::move(frame));  // a chunk takes the body along
    session_.on_receive(type);
    if (!chunk) {
        if (secret) proto::wipe(frame.body);
        decoder_.recycle(std::move(frame.body));
    }
    return m;
}

}  // namespace sfts::net
