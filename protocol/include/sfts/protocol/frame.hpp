// Framing: u32 big-endian body length, u8 message type, body. The decoder is sans-I/O
// (h11 style): the network adapter feeds it bytes and takes complete frames out.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
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
//
// Bulk transfers avoid copies two ways: a network adapter may read a large body straight into
// the frame (body_space() / body_written(), instead of feed() from its own buffer), and a
// spent 1 MiB body may be handed back (recycle()) so the next frame reuses its memory instead
// of allocating, faulting in and freeing a fresh buffer per chunk.
class FrameDecoder {
public:
    // Takes bytes up to the end of the current frame; returns how many it took (0 when a
    // complete frame is waiting for next()).
    std::size_t feed(ByteView data);
    // Room for the next body bytes of the current frame, to be filled by the caller and then
    // reported with body_written(). Empty unless a header is complete and its body is not.
    // At most max(64 KiB, bytes received so far) at a time, so it too grows with what
    // arrives, never past the announced length.
    std::span<std::uint8_t> body_space();
    void body_written(std::size_t n);
    // Body bytes of the current frame still to come (0 before its header is complete).
    std::size_t body_missing() const noexcept { return header_len_ == frame_header_size ? body_len_ - body_got_ : 0; }
    // The complete frame, or nothing when more bytes are needed.
    std::optional<Frame> next();
    // Gives back the body of a frame (or of a chunk decoded from it) once the caller is done
    // with it: its memory serves the next frames. Keeps at most one buffer; release() drops it.
    void recycle(Bytes&& spent) noexcept;
    void release() noexcept;
    // True when bytes of an unfinished frame are buffered: EOF now means a truncated stream.
    bool mid_frame() const noexcept { return header_len_ > 0; }
    // Throws Error(protocol) if the stream ended inside a frame.
    void expect_clean_eof() const;
    std::size_t buffered() const noexcept { return header_len_ + body_got_; }
    // Bytes of memory held for bodies (the current frame's or a recycled one).
    std::size_t capacity() const noexcept { return body_.capacity(); }

private:
    void check_usable() const;
    void ensure_room(std::size_t n);

    std::array<std::uint8_t, frame_header_size> header_{};
    std::size_t header_len_ = 0;
    std::size_t body_len_ = 0;
    // body_[0, body_got_) is the received body; body_ may be longer (room already made, or
    // the size of a recycled buffer): resizing within it costs nothing.
    Bytes body_;
    std::size_t body_got_ = 0;
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
