// Hostile batch uploads (docs/protocol.md 4.4.1) against a running sftsd, through the protocol
// directly: signatures that do not cover what is sent, duplicate and reserved names, counts
// that lie, files too large for a frame, a traversal name, an existing name without overwrite,
// a replayed header, a batch over quota, an abort and a dropped connection mid-batch. Each must
// be refused with the expected error; batch_test.sh then checks that nothing of them is stored
// (no file, no temporary, no database row). Every name used here starts with "evil-".
// usage: batch_attack CLIENT_CONFIG EXISTING_NAME QUOTA_FILE_COUNT
#include "raw_client.hpp"
#include "sfts/protocol/frame.hpp"

using namespace sfts;
using namespace sfts::test_client;

namespace {

struct File {
    std::string name;
    proto::Bytes data;
};

std::vector<File> files(const std::string& prefix, std::size_t n, std::size_t size = 100) {
    std::vector<File> out;
    for (std::size_t i = 0; i < n; ++i)
        out.push_back({prefix + std::to_string(i), proto::Bytes(size, static_cast<std::uint8_t>('a' + i % 26))});
    return out;
}

std::vector<proto::BatchEntry> manifest(const std::vector<File>& fs) {
    std::vector<proto::BatchEntry> m;
    for (const auto& f : fs) {
        proto::BatchEntry e{f.name, f.data.size(), {}};
        auto d = ossl::sha256(f.data.data(), f.data.size());
        std::copy(d.begin(), d.end(), e.sha256.begin());
        m.push_back(std::move(e));
    }
    return m;
}

Errc kind_of(const proto::Message& m) {
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) {
        std::cout << "      server: " << e->message << "\n";
        return e->errc();
    }
    return Errc::ok;
}

enum class Sig { good, garbage, other_content };

struct Options {
    bool overwrite = false;
    Sig sig = Sig::good;
    std::optional<std::uint32_t> announce;  // a count other than the number of files sent
    std::optional<proto::CommandHeader> header;
};

Options signed_by(Sig sig) {
    Options o;
    o.sig = sig;
    return o;
}
Options announcing(std::uint32_t n) {
    Options o;
    o.announce = n;
    return o;
}
Options with_header(const proto::CommandHeader& h, Sig sig = Sig::good) {
    Options o;
    o.header = h;
    o.sig = sig;
    return o;
}

// Sends a whole batch and returns the server's verdict on batch_begin or batch_end.
Errc batch(Conn& c, const Setup& s, const std::vector<File>& fs, Options o = {}) {
    proto::BatchBegin b{o.header ? *o.header : c.header(), o.announce ? *o.announce : static_cast<std::uint32_t>(fs.size()),
                        o.overwrite};
    c.ch->send(b, soon());
    auto m = c.rx();
    if (!std::holds_alternative<proto::OkReply>(m)) return kind_of(m);
    for (const auto& f : fs) c.ch->send(proto::BatchFile{f.name, f.data}, soon());
    auto entries = manifest(fs);
    if (o.sig == Sig::other_content) entries.back().sha256[0] ^= 1;  // a valid signature, over other data
    proto::BatchBegin signed_begin = b;
    signed_begin.count = static_cast<std::uint32_t>(entries.size());
    proto::BatchEnd end{o.sig == Sig::garbage ? proto::Bytes(384, 0x5A)
                                              : pki::pss_sign(s.key.get(), proto::batch_record(s.user, signed_begin, entries))};
    c.ch->send(end, soon());
    m = c.rx();
    if (auto* r = std::get_if<proto::BatchReceipt>(&m)) return r->count == b.count ? Errc::ok : Errc::internal;
    return kind_of(m);
}

Conn fresh(const Setup& s) {
    Conn c = connect(s);
    if (login(c, s.user, s.password) != Errc::ok) throw Error(Errc::auth_failed, "login failed");
    return c;
}

// Sends a batch_file frame spelled byte for byte, past the encoder's own checks.
void send_raw_file(Conn& c, const proto::Bytes& body) {
    proto::Bytes frame = proto::encode_frame(proto::MsgType::batch_file, body);
    c.ch->send_encoded(proto::MsgType::batch_file, frame, soon());
}

proto::Bytes raw_body(std::string_view name, std::size_t data_size) {
    proto::Bytes b;
    const auto n = static_cast<std::uint32_t>(name.size());
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<std::uint8_t>(n >> shift));
    b.insert(b.end(), name.begin(), name.end());
    b.resize(b.size() + data_size, 0x42);
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: batch_attack CLIENT_CONFIG EXISTING_NAME QUOTA_BYTES\n";
        return 1;
    }
    try {
        Setup s(argv[1]);
        const std::string existing = argv[2];
        const auto quota_bytes = std::stoull(argv[3]);
        {
            Conn c = fresh(s);
            verdict(batch(c, s, files("evil-garbage-", 3), signed_by(Sig::garbage)) == Errc::integrity,
                    "batch with a garbage signature refused");
            verdict(batch(c, s, files("evil-other-", 3), signed_by(Sig::other_content)) == Errc::integrity,
                    "batch signed over different content refused");
            auto dup = files("evil-dup-", 3);
            dup[2].name = dup[0].name;
            verdict(batch(c, s, dup) == Errc::invalid_argument, "batch with a name given twice refused");
            verdict(batch(c, s, files("evil-short-", 2), announcing(3)) == Errc::integrity,
                    "batch with fewer files than announced refused");
            auto clash = files("evil-clash-", 3);
            clash[1].name = existing;
            verdict(batch(c, s, clash) == Errc::already_exists, "batch naming an existing file without overwrite refused");
            auto reserved = files("evil-reserved-", 3);
            reserved[1].name = ".sfts-tmp-evil";
            verdict(batch(c, s, reserved) == Errc::invalid_argument, "batch with a reserved name refused");
            auto h = c.header();
            verdict(batch(c, s, files("evil-fresh-", 1), with_header(h, Sig::garbage)) == Errc::integrity,
                    "first use of a header reaches the signature check");
            h.request_id = c.id++;
            verdict(batch(c, s, files("evil-replay-", 2), with_header(h)) == Errc::auth_failed, "batch with a replayed header refused");
            verdict(batch(c, s, files("evil-stale-", 2), with_header(c.header(now_ms() - 10 * 60 * 1000))) == Errc::auth_failed,
                    "batch with a stale header refused");
            // Over the byte quota: whole 1 MiB files until the batch passes it.
            const std::size_t n = static_cast<std::size_t>(quota_bytes / proto::max_batch_file_bytes) + 2;
            verdict(batch(c, s, files("evil-quota-", n, proto::max_batch_file_bytes)) == Errc::limit_exceeded,
                    "batch over the byte quota refused");
            verdict(batch(c, s, files("evil-files-", 1), announcing(4000)) == Errc::limit_exceeded,
                    "batch over the file quota refused before any file is sent");

            // Abort mid-batch: one ok, nothing stored, the session goes on.
            c.ch->send(proto::BatchBegin{c.header(), 3, false}, soon());
            verdict(std::holds_alternative<proto::OkReply>(c.rx()), "batch to abort accepted");
            c.ch->send(proto::BatchFile{"evil-abort-0", proto::Bytes(10, 1)}, soon());
            c.ch->send(proto::TransferAbort{c.header()}, soon());
            verdict(std::holds_alternative<proto::OkReply>(c.rx()), "abort mid-batch answered with ok");
            verdict(batch(c, s, files("evil-after-abort-", 2), signed_by(Sig::garbage)) == Errc::integrity,
                    "session still usable after the abort");
        }
        {
            // A count over the maximum never decodes: the connection ends.
            Conn c = fresh(s);
            proto::Bytes body = proto::BatchBegin{c.header(), 1, false}.encode();
            const std::uint32_t n = proto::max_batch_files + 1;
            for (int i = 0; i < 4; ++i) body[32 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
            proto::Bytes frame = proto::encode_frame(proto::MsgType::batch_begin, body);
            c.ch->send_encoded(proto::MsgType::batch_begin, frame, soon());
            verdict(kind_of(c.rx()) == Errc::limit_exceeded, "batch announcing more than the maximum count refused");
        }
        {
            // More files than announced: the stream itself is wrong, the session ends.
            Conn c = fresh(s);
            c.ch->send(proto::BatchBegin{c.header(), 1, false}, soon());
            std::get<proto::OkReply>(c.rx());
            c.ch->send(proto::BatchFile{"evil-extra-0", proto::Bytes(10, 1)}, soon());
            c.ch->send(proto::BatchFile{"evil-extra-1", proto::Bytes(10, 1)}, soon());
            verdict(kind_of(c.rx()) == Errc::limit_exceeded, "batch with more files than announced refused");
        }
        {
            // A file one byte larger than a batch carries (the frame itself is within limits).
            Conn c = fresh(s);
            c.ch->send(proto::BatchBegin{c.header(), 2, false}, soon());
            std::get<proto::OkReply>(c.rx());
            c.ch->send(proto::BatchFile{"evil-big-0", proto::Bytes(10, 1)}, soon());
            send_raw_file(c, raw_body("evil-big-1", proto::max_batch_file_bytes + 1));
            verdict(kind_of(c.rx()) == Errc::limit_exceeded, "batch file larger than a frame carries refused");
        }
        {
            // A traversal name never decodes.
            Conn c = fresh(s);
            c.ch->send(proto::BatchBegin{c.header(), 2, false}, soon());
            std::get<proto::OkReply>(c.rx());
            c.ch->send(proto::BatchFile{"evil-trav-0", proto::Bytes(10, 1)}, soon());
            send_raw_file(c, raw_body("../evil-trav-1", 10));
            verdict(kind_of(c.rx()) == Errc::protocol, "batch file with a traversal name refused");
        }
        {
            // The connection drops mid-batch: batch_test.sh checks that no temporary remains.
            Conn c = fresh(s);
            c.ch->send(proto::BatchBegin{c.header(), 5, false}, soon());
            std::get<proto::OkReply>(c.rx());
            for (const auto& f : files("evil-drop-", 3)) c.ch->send(proto::BatchFile{f.name, f.data}, soon());
            c.ch.reset();  // the socket closes without batch_end
            verdict(true, "connection dropped mid-batch");
        }
        {
            Conn c = fresh(s);
            verdict(batch(c, s, files("evil-genuine-", 2), signed_by(Sig::garbage)) == Errc::integrity,
                    "server still serving after the dropped connection");
        }
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << "\n";
        return 1;
    }
    std::cout << (failures ? "batch attacks: some were not refused\n" : "batch attacks: all refused\n");
    return failures ? 1 : 0;
}
