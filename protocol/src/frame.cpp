#include "sfts/protocol/frame.hpp"

#include <algorithm>
#include <string>

#include "sfts/error.hpp"
#include "sfts/protocol/writer.hpp"

namespace sfts::proto {

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
    const std::size_t n = std::min(body_len_ - body_.size(), rest.size());
    body_.insert(body_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
    return taken + n;
}

std::optional<Frame> FrameDecoder::next() {
    check_usable();
    if (header_len_ < frame_header_size || body_.size() < body_len_) return std::nullopt;
    Frame f{static_cast<MsgType>(header_[4]), std::move(body_)};
    body_ = Bytes{};
    header_len_ = 0;
    body_len_ = 0;
    return f;
}

void FrameDecoder::expect_clean_eof() const {
    if (mid_frame()) {
        fail(Errc::protocol, "stream ended inside a frame (" + std::to_string(buffered()) +
                                 " bytes buffered)");
    }
}

}  // namespace sfts::proto
