// libFuzzer harness for the wire codec. The one invariant (h11's): any input either
// decodes or throws sfts::Error of kind protocol or limit_exceeded. Anything else - another
// exception, another kind, a sanitizer report, a broken round trip - is a crash.
//
// Input: byte 0 picks the service (bit 0) and a split size for the second pass (bits 1-7);
// the rest is the byte stream a peer would send.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "sfts/error.hpp"
#include "sfts/protocol/frame.hpp"
#include "sfts/protocol/message.hpp"
#include "sfts/protocol/session.hpp"

namespace {

using namespace sfts::proto;

[[noreturn]] void crash(const char* why) {
    std::fprintf(stderr, "fuzz_decode invariant broken: %s\n", why);
    std::abort();
}

void check_kind(const sfts::Error& e) {
    if (e.kind() != sfts::Errc::protocol && e.kind() != sfts::Errc::limit_exceeded) {
        std::fprintf(stderr, "unexpected error kind %d: %s\n", static_cast<int>(e.kind()), e.what());
        crash("error kind");
    }
}

struct Framed {
    std::vector<Frame> frames;
    std::optional<sfts::Errc> error;
};

// Feeds the stream split into pieces of `step` bytes (everything at once when 0).
Framed frame_stream(ByteView in, std::size_t step) {
    Framed out;
    FrameDecoder dec;
    try {
        while (!in.empty()) {
            const std::size_t n = step == 0 ? in.size() : std::min(step, in.size());
            feed_all(dec, in.first(n), [&](Frame&& f) { out.frames.push_back(std::move(f)); });
            in = in.subspan(n);
            if (dec.buffered() > frame_header_size + max_frame_body) crash("decoder over capacity");
        }
    } catch (const sfts::Error& e) {
        check_kind(e);
        out.error = e.kind();
    }
    return out;
}

// Outcome of one session step: true when allowed.
template <typename F>
bool allowed(F&& step) {
    try {
        step();
        return true;
    } catch (const sfts::Error& e) {
        check_kind(e);
        return false;
    }
}

void run_conversation(Service service, const std::vector<Frame>& frames) {
    Session client(Side::client, service);
    Session server(Side::server, service);
    bool in_order = true;  // decoding goes on after the sessions refuse, for coverage
    for (const Frame& f : frames) {
        std::optional<Message> msg;
        try {
            msg = decode_message(f);
        } catch (const sfts::Error& e) {
            check_kind(e);
            continue;
        }
        if (type_of(*msg) != f.type) crash("decoded type differs from frame type");
        // Strict decoding makes the encoding canonical: re-encoding gives the same bytes.
        try {
            if (encode_message(*msg) != encode_frame(f.type, f.body)) crash("round trip changed bytes");
        } catch (const sfts::Error& e) {
            std::fprintf(stderr, "re-encode threw: %s\n", e.what());
            crash("re-encoding a decoded message threw");
        }
        if (!in_order) continue;
        // Both ends follow one table, so they must agree on every step.
        Session& sender = sender_of(f.type) == Side::client ? client : server;
        Session& receiver = sender_of(f.type) == Side::client ? server : client;
        const bool sent = allowed([&] { sender.on_send(f.type); });
        const bool received = allowed([&] { receiver.on_receive(f.type); });
        if (sent != received) crash("sender and receiver disagree");
        in_order = sent;
        if (in_order && client.state() != server.state()) crash("sessions diverged");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Service service = (data[0] & 1) != 0 ? Service::file : Service::enroll;
    const std::size_t step = (data[0] >> 1) + 1u;
    const ByteView stream(data + 1, size - 1);

    const Framed whole = frame_stream(stream, 0);
    const Framed pieces = frame_stream(stream, step);
    if (whole.frames != pieces.frames || whole.error != pieces.error) {
        crash("split feeding changed the frames");
    }
    run_conversation(service, whole.frames);
    return 0;
}
