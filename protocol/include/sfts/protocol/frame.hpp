// Framing: u32 big-endian body length, u8 message type, body. The decoder is sans-I/O
// (h11 style): the network adapter feeds it bytes and takes complete frames out.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <utility>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/message_type.hpp"

namespace sfts::proto {

struct Frame {
    MsgType type{};
    Bytes body;
    bool operator==(const Frame&) const = default;
};

// Header + body. Error(limit_exceeded) when the body exceeds max_frame_body.
Bytes encode_frame(MsgType type, ByteView body);

// Holds at most one frame (header + body <= frame_header_size + max_frame_body bytes):
// feed() stops taking bytes once the current frame is complete, and a length prefix over
// the maximum throws Error(limit_exceeded) as soon as its 5 header bytes are in, before a
// byte of the body is buffered. The body grows with the bytes that arrive, not with the
// length the peer claims. After a throw the stream is unusable; every later call throws.
//
//     while (!in.empty()) {
//         in = in.subspan(dec.feed(in));
//         while (auto f = dec.next()) handle(*f);
//     }
class FrameDecoder {
public:
    // Takes bytes up to the end of the current frame; returns how many it took (0 when a
    // complete frame is waiting for next()).
    std::size_t feed(ByteView data);
    // The complete frame, or nothing when more bytes are needed.
    std::optional<Frame> next();
    // True when bytes of an unfinished frame are buffered: EOF now means a truncated stream.
    bool mid_frame() const noexcept { return header_len_ > 0; }
    // Throws Error(protocol) if the stream ended inside a frame.
    void expect_clean_eof() const;
    std::size_t buffered() const noexcept { return header_len_ + body_.size(); }

private:
    void check_usable() const;

    std::array<std::uint8_t, frame_header_size> header_{};
    std::size_t header_len_ = 0;
    std::size_t body_len_ = 0;
    Bytes body_;
    bool failed_ = false;
};

// Feeds all of data, calling on_frame(Frame&&) for each frame it completes.
template <typename OnFrame>
void feed_all(FrameDecoder& dec, ByteView data, OnFrame&& on_frame) {
    while (!data.empty()) {
        data = data.subspan(dec.feed(data));
        while (auto f = dec.next()) on_frame(std::move(*f));
    }
}

}  // namespace sfts::proto
