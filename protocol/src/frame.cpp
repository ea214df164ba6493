#include "sfts/protocol/frame.hpp"

#include <algorithm>
#include <string>

#include "sfts/error.hpp"
#include "sfts/protocol/writer.hpp"

namespace sfts::proto {

namespace {

// The smallest room body_space() offers, and the step by which a body grows before a
// recycled buffer is there: about four TLS records.
constexpr std::size_t kMinRoom = 64 * 1024;

}  // namespace

Bytes encode_frame(MsgType type, ByteView body) {
    if (body.size() > max_frame_body) {
        fail(Errc::limit_exceeded, std::string(message_name(type)) + ": body of " +
                                       std::to_string(body.size()) + " bytes exceeds limit " +
                                       std::to_string(max_frame_body));
    }
    Writer w;
    w.u32(static_cast<std::uint32_t>(body.size()));
    w.u8(static_cast<std::uint8_t>(type));
    w.raw(body);
    return std::move(w).take();
}

void FrameDecoder::check_usable() const {
    if (failed_) fail(Errc::protocol, "frame stream already failed");
}

// Makes body_ at least body_got_ + n long. Growth is geometric in what has arrived, so a peer
// announcing 1 MiB and sending 10 bytes costs 64 KiB, not 1 MiB.
void FrameDecoder::ensure_room(std::size_t n) {
    const std::size_t need = body_got_ + n;
    if (body_.size() >= need) return;
    const std::size_t grown = std::max({need, body_got_ * 2, kMinRoom});
    body_.resize(std::min(grown, body_len_));
}

std::size_t FrameDecoder::feed(ByteView data) {
    check_usable();
    std::size_t taken = 0;
    if (header_len_ < frame_header_size) {
        taken = std::min(frame_header_size - header_len_, data.size());
        std::copy_n(data.begin(), taken, header_.begin() + static_cast<std::ptrdiff_t>(header_len_));
        header_len_ += taken;
        if (header_len_ < frame_header_size) return taken;
        body_len_ = (std::size_t{header_[0]} << 24) | (std::size_t{header_[1]} << 16) |
                    (std::size_t{header_[2]} << 8) | std::size_t{header_[3]};
        if (body_len_ > max_frame_body) {
            failed_ = true;
            fail(Errc::limit_exceeded, "frame length " + std::to_string(body_len_) +
                                           " exceeds limit " + std::to_string(max_frame_body));
        }
    }
    const ByteView rest = data.subspan(taken);
    const std::size_t n = std::min(body_len_ - body_got_, rest.size());
    if (n > 0) {
        ensure_room(n);
        std::copy_n(rest.begin(), n, body_.begin() + static_cast<std::ptrdiff_t>(body_got_));
        body_got_ += n;
    }
    return taken + n;
}

std::span<std::uint8_t> FrameDecoder::body_space() {
    check_usable();
    if (header_len_ < frame_header_size || body_got_ == body_len_) return {};
    const std::size_t room = std::min(body_len_ - body_got_, std::max(kMinRoom, body_got_));
    ensure_room(room);
    return std::span<std::uint8_t>(body_).subspan(body_got_, room);
}

void FrameDecoder::body_written(std::size_t n) {
    check_usable();
    SFTS_INVARIANT(header_len_ == frame_header_size && n <= body_.size() - body_got_ && n <= body_len_ - body_got_);
    body_got_ += n;
}

std::optional<Frame> FrameDecoder::next() {
    check_usable();
    if (header_len_ < frame_header_size || body_got_ < body_len_) return std::nullopt;
    body_.resize(body_len_);  // never grows here: room beyond the body is only cut off
    Frame f{static_cast<MsgType>(header_[4]), std::move(body_)};
    body_ = Bytes{};
    header_len_ = 0;
    body_len_ = 0;
    body_got_ = 0;
    return f;
}

void FrameDecoder::recycle(Bytes&& spent) noexcept {
    // Only between frames, and only a buffer worth keeping; its contents are overwritten by
    // the next body before anything reads them.
    if (header_len_ > 0 || spent.capacity() <= body_.capacity()) return;
    body_ = std::move(spent);  // its size stays: the next body of that size needs no zero fill
}

void FrameDecoder::release() noexcept {
    if (header_len_ == 0) body_ = Bytes{};
}

void FrameDecoder::expect_clean_eof() const {
    if (mid_frame()) {
        fail(Errc::protocol, "stream ended inside a frame (" + std::to_string(buffered()) +
                                 " bytes buffered)");
    }
}

}  // namespace sfts::proto
