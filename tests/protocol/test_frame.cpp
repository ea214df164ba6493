#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <utility>

#include "helpers.hpp"
#include "samples.hpp"
#include "sfts/protocol/frame.hpp"
#include "sfts/protocol/message.hpp"

using namespace sfts::proto;
using namespace sfts::proto::test;
using sfts::Errc;

namespace {

std::vector<Frame> frames_of(ByteView stream, std::size_t step) {
    FrameDecoder dec;
    std::vector<Frame> out;
    while (!stream.empty()) {
        const std::size_t n = std::min(step, stream.size());
        feed_all(dec, stream.first(n), [&](Frame&& f) { out.push_back(std::move(f)); });
        stream = stream.subspan(n);
    }
    dec.expect_clean_eof();
    return out;
}

std::vector<Conversation> all_conversations() {
    std::vector<Conversation> c;
    c.push_back(enroll_conversation());
    c.push_back(file_conversation());
    c.push_back(initial_password_conversation());
    c.push_back(abort_conversation());
    c.push_back(batch_conversation());
    return c;
}

Bytes header(std::uint32_t len, std::uint8_t type) {
    return Bytes{static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                 static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), type};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(framing)

BOOST_AUTO_TEST_CASE(encode_frame_layout) {
    const Bytes f = encode_frame(MsgType::download_end, Bytes{0xAB, 0xCD});
    const Bytes expected{0x00, 0x00, 0x00, 0x02, 0x3B, 0xAB, 0xCD};
    BOOST_TEST(f == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(encode_frame_refuses_oversize_body) {
    SFTS_CHECK_ERRC(encode_frame(MsgType::upload_chunk, Bytes(max_frame_body + 1, 0)),
                    Errc::limit_exceeded);
}

BOOST_AUTO_TEST_CASE(empty_body_frame) {
    FrameDecoder dec;
    const Bytes h = header(0, 0x7E);
    BOOST_TEST(dec.feed(h) == 5u);
    const auto f = dec.next();
    BOOST_REQUIRE(f.has_value());
    BOOST_TEST(f->body.empty());
    BOOST_TEST(!dec.next().has_value());
    BOOST_TEST(!dec.mid_frame());
}

BOOST_AUTO_TEST_CASE(byte_at_a_time_equals_whole) {
    for (const Conversation& c : all_conversations()) {
        const Bytes stream = encode_all(c.messages);
        const auto whole = frames_of(stream, stream.size());
        BOOST_TEST(whole.size() == c.messages.size());
        for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}}) {
            BOOST_TEST((frames_of(stream, step) == whole));
        }
        // And the messages decoded from those frames are the ones encoded.
        for (std::size_t i = 0; i < whole.size(); ++i) {
            BOOST_TEST((decode_message(whole[i]) == c.messages[i]));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_truncation_needs_more_bytes) {
    for (const Conversation& c : all_conversations()) {
        const Bytes stream = encode_all(c.messages);
        // Where each frame ends, to know how many complete frames a prefix holds.
        std::vector<std::size_t> ends;
        std::size_t at = 0;
        for (const Message& m : c.messages) ends.push_back(at += encode_message(m).size());

        for (std::size_t len = 0; len <= stream.size(); ++len) {
            FrameDecoder dec;
            std::size_t frames = 0;
            BOOST_CHECK_NO_THROW(
                feed_all(dec, ByteView(stream).first(len), [&](Frame&&) { ++frames; }));
            const auto complete = static_cast<std::size_t>(
                std::upper_bound(ends.begin(), ends.end(), len) - ends.begin());
            BOOST_TEST(frames == complete);
            const bool on_boundary = len == 0 || (complete > 0 && ends[complete - 1] == len);
            BOOST_TEST(dec.mid_frame() == !on_boundary);
            BOOST_TEST(!dec.next().has_value());
            if (!on_boundary) SFTS_CHECK_ERRC(dec.expect_clean_eof(), Errc::protocol);
        }
    }
}

BOOST_AUTO_TEST_CASE(oversize_length_rejected_before_body_is_buffered) {
    Bytes stream = header(static_cast<std::uint32_t>(max_frame_body + 1), 0x31);
    stream.resize(stream.size() + 4096, 0xEE);  // body bytes right behind the header
    FrameDecoder dec;
    SFTS_CHECK_ERRC(dec.feed(stream), Errc::limit_exceeded);
    BOOST_TEST(dec.buffered() == frame_header_size);
    // The stream is dead from here on.
    SFTS_CHECK_ERRC(dec.feed(stream), Errc::protocol);
    SFTS_CHECK_ERRC(dec.next(), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(oversize_length_rejected_when_fed_byte_by_byte) {
    const Bytes h = header(0xFFFFFFFF, 0x31);
    FrameDecoder dec;
    for (std::size_t i = 0; i + 1 < h.size(); ++i) BOOST_TEST(dec.feed(ByteView(h).subspan(i, 1)) == 1u);
    SFTS_CHECK_ERRC(dec.feed(ByteView(h).subspan(4, 1)), Errc::limit_exceeded);
}

BOOST_AUTO_TEST_CASE(maximum_frame_is_accepted_and_bounded) {
    Bytes stream = header(static_cast<std::uint32_t>(max_frame_body), 0x31);
    stream.resize(stream.size() + max_frame_body, 0x01);
    stream.push_back(0x00);  // first byte of the next frame
    FrameDecoder dec;
    const std::size_t taken = dec.feed(stream);
    BOOST_TEST(taken == frame_header_size + max_frame_body);  // stops at the frame's end
    BOOST_TEST(dec.buffered() == frame_header_size + max_frame_body);
    BOOST_TEST(dec.feed(ByteView(stream).subspan(taken)) == 0u);  // full until next()
    const auto f = dec.next();
    BOOST_REQUIRE(f.has_value());
    BOOST_TEST(f->body.size() == max_frame_body);
    BOOST_TEST(dec.buffered() == 0u);
}

// A network adapter reading bodies straight into the frame (body_space / body_written) sees
// the same frames as one feeding a copy.
BOOST_AUTO_TEST_CASE(direct_body_reads_equal_feeding) {
    for (const Conversation& c : all_conversations()) {
        const Bytes stream = encode_all(c.messages);
        const auto expected = frames_of(stream, stream.size());
        for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{100000}}) {
            FrameDecoder dec;
            std::vector<Frame> got;
            ByteView in(stream);
            while (!in.empty()) {
                if (dec.body_missing() > 0) {
                    auto space = dec.body_space();
                    BOOST_REQUIRE(!space.empty());
                    BOOST_TEST(space.size() <= dec.body_missing());
                    const std::size_t n = std::min({step, space.size(), in.size()});
                    std::copy_n(in.begin(), n, space.begin());
                    dec.body_written(n);
                    in = in.subspan(n);
                } else {
                    BOOST_TEST(dec.body_space().empty());
                    in = in.subspan(dec.feed(in.first(std::min(step, in.size()))));
                }
                while (auto f = dec.next()) {
                    got.push_back(*f);
                    dec.recycle(std::move(f->body));  // recycled memory must not leak into later frames
                }
            }
            dec.expect_clean_eof();
            BOOST_TEST((got == expected));
        }
    }
}

// The room offered grows with what has arrived: a peer announcing the maximum and sending
// little makes the decoder hold little.
BOOST_AUTO_TEST_CASE(body_space_grows_with_arrivals) {
    FrameDecoder dec;
    const Bytes h = header(static_cast<std::uint32_t>(max_frame_body), 0x31);
    BOOST_TEST(dec.feed(h) == frame_header_size);
    BOOST_TEST(dec.body_missing() == max_frame_body);
    auto space = dec.body_space();
    BOOST_TEST(space.size() == 64u * 1024);
    BOOST_TEST(dec.capacity() < 128u * 1024);
    dec.body_written(10);
    BOOST_TEST(dec.buffered() == frame_header_size + 10);
    std::size_t got = 10;
    while (dec.body_missing() > 0) {
        space = dec.body_space();
        BOOST_TEST(space.size() <= std::max<std::size_t>(64 * 1024, got));
        std::fill(space.begin(), space.end(), std::uint8_t{7});
        dec.body_written(space.size());
        got += space.size();
        BOOST_TEST(dec.capacity() <= 2 * got + 64 * 1024);
    }
    const auto f = dec.next();
    BOOST_REQUIRE(f.has_value());
    BOOST_TEST(f->body.size() == max_frame_body);
    BOOST_TEST(dec.capacity() == 0u);  // the body left with the frame
}

// A recycled body serves the next frame without a new allocation, and release() drops it.
BOOST_AUTO_TEST_CASE(recycled_body_is_reused) {
    FrameDecoder dec;
    Bytes stream = encode_message(UploadChunk{Bytes(max_chunk, 0x11)});
    const Bytes second = encode_message(UploadChunk{Bytes(max_chunk / 2, 0x22)});
    feed_all(dec, stream, [&](Frame&& f) {
        const auto* mem = f.body.data();
        dec.recycle(std::move(f.body));
        feed_all(dec, second, [&](Frame&& g) {
            BOOST_TEST(g.body.data() == mem);  // the same memory, not a fresh buffer
            BOOST_TEST(g.body.size() == max_chunk / 2);
            BOOST_TEST((g.body == Bytes(max_chunk / 2, 0x22)));
        });
    });
    dec.recycle(Bytes(100));
    BOOST_TEST(dec.capacity() >= 100u);
    dec.release();
    BOOST_TEST(dec.capacity() == 0u);
}

// decode_message(Frame&&) hands a chunk the frame body itself, with the same checks.
BOOST_AUTO_TEST_CASE(chunk_takes_the_body) {
    Frame f{MsgType::download_chunk, Bytes(4096, 0x5A)};
    const auto* mem = f.body.data();
    Message m = decode_message(std::move(f));
    auto* c = std::get_if<DownloadChunk>(&m);
    BOOST_REQUIRE(c != nullptr);
    BOOST_TEST(c->data.data() == mem);
    BOOST_TEST((c->data == Bytes(4096, 0x5A)));
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_chunk, Bytes{}}), Errc::protocol);
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_chunk, Bytes(max_chunk + 1, 0)}), Errc::limit_exceeded);
    const Frame empty{MsgType::upload_chunk, Bytes{}};  // the copying path agrees
    SFTS_CHECK_ERRC(decode_message(empty), Errc::protocol);
}

// A chunk's header followed by its data is byte for byte the frame of encode_message.
BOOST_AUTO_TEST_CASE(chunk_header_matches_encoder) {
    for (MsgType t : {MsgType::upload_chunk, MsgType::download_chunk}) {
        for (std::size_t n : {std::size_t{1}, std::size_t{4096}, std::size_t{65537}, max_chunk}) {
            Bytes data(n);
            for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + n);
            const Bytes expected = t == MsgType::upload_chunk ? encode_message(UploadChunk{data})
                                                              : encode_message(DownloadChunk{data});
            const auto header = chunk_frame_header(t, n);
            BOOST_REQUIRE(expected.size() == header.size() + n);
            BOOST_TEST(std::equal(header.begin(), header.end(), expected.begin()));
            BOOST_TEST(std::equal(data.begin(), data.end(), expected.begin() + static_cast<std::ptrdiff_t>(header.size())));
        }
        SFTS_CHECK_ERRC(chunk_frame_header(t, 0), Errc::invalid_argument);
        SFTS_CHECK_ERRC(chunk_frame_header(t, max_chunk + 1), Errc::limit_exceeded);
    }
    SFTS_CHECK_ERRC(chunk_frame_header(MsgType::upload_end, 1), Errc::invalid_argument);
    SFTS_CHECK_ERRC(chunk_frame_header(MsgType::download_end, 1), Errc::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
