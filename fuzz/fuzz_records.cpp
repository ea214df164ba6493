// libFuzzer harness for the canonical signed records and the enrollment transcripts
// (protocol/src/records.cpp, transcript.cpp). They are built, not parsed, but from fields a
// peer chose, so two properties must hold for every decodable input:
//   1. whatever the decoder accepts the record builder accepts (otherwise a peer could make the
//      signer throw at a point no test reaches);
//   2. the encoding is injective: each record parses back, with an independent reader
//      written here from docs/protocol.md "Canonical signed records", into exactly the fields
//      it was built from, with nothing left over - so no two field sets share a signature.
//
// Input: the byte stream one peer would send (either service), cut into frames by the real
// FrameDecoder and decoded by the generic decode_message, so new messages are covered as the
// codec grows. Messages are remembered in order to feed the records that combine several.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sfts/protocol/frame.hpp"
#include "sfts/protocol/limits.hpp"
#include "sfts/protocol/message.hpp"
#include "sfts/protocol/reader.hpp"
#include "sfts/protocol/records.hpp"
#include "sfts/protocol/transcript.hpp"

namespace {

using namespace sfts::proto;
using sfts::Errc;
using sfts::fuzz::crash;

// Parses one record back; every read throws Error(protocol) on a mismatch of shape.
class Back {
public:
    explicit Back(const Bytes& b) : r_(b) {}

    void domain(std::string_view d) { str(d); }
    void str(std::string_view want) {
        const ByteView v = r_.bytes(1u << 20, "string");
        if (std::string_view(reinterpret_cast<const char*>(v.data()), v.size()) != want) crash("string field differs");
    }
    void blob(ByteView want) {
        const ByteView v = r_.bytes(1u << 20, "bytes");
        if (!std::equal(v.begin(), v.end(), want.begin(), want.end())) crash("bytes field differs");
    }
    void u8(std::uint8_t want) {
        if (r_.u8() != want) crash("u8 field differs");
    }
    void u32(std::uint32_t want) {
        if (r_.u32() != want) crash("u32 field differs");
    }
    void u64(std::uint64_t want) {
        if (r_.u64() != want) crash("u64 field differs");
    }
    void i64(std::int64_t want) {
        if (r_.i64() != want) crash("i64 field differs");
    }
    void end() {
        if (r_.remaining() != 0) crash("record has trailing bytes");
    }

private:
    Reader r_;
};

// Builds with the real builder (which must not refuse decoded fields) and checks it parses back.
template <typename Build, typename Check>
void record(const char* what, Build&& build, Check&& check) {
    Bytes rec;
    try {
        rec = build();
    } catch (const sfts::Error& e) {
        std::fprintf(stderr, "%s builder refused decoded fields: %s\n", what, e.what());
        crash("record builder refused what the decoder accepted");
    }
    try {
        Back b(rec);
        check(b);
        b.end();
    } catch (const sfts::Error& e) {
        std::fprintf(stderr, "%s does not parse back: %s\n", what, e.what());
        crash("record does not parse back");
    }
}

struct Seen {
    std::optional<EnrollStart> start;
    std::optional<EnrollChallenge> challenge;
    std::optional<EnrollCsr> csr;
    std::optional<EnrollResult> result;
    std::optional<UploadBegin> upload;
    std::optional<UploadEnd> upload_end;
    std::optional<BatchBegin> batch;
    std::vector<BatchEntry> batch_files;  // the files since batch_begin, at most its count
    std::optional<BatchEnd> batch_end;
    std::string user = "alice";  // the login's user; an EnrollStart's user replaces it
};

void core(Back& b, const EnrollStart& s, const EnrollChallenge& c, ByteView csr_der) {
    b.u8(static_cast<std::uint8_t>(s.secret_kind));
    b.str(s.token_id);
    b.str(s.user);
    b.blob(s.client_nonce);
    b.blob(c.server_nonce);
    b.blob(csr_der);
}

void on(Seen& seen, const EnrollStart& m) {
    seen.start = m;
    seen.user = m.user;
}

void on(Seen& seen, const EnrollChallenge& m) {
    seen.challenge = m;
}

void on(Seen& seen, const EnrollCsr& m) {
    seen.csr = m;
    if (!seen.start || !seen.challenge) return;
    const auto& s = *seen.start;
    const auto& c = *seen.challenge;
    record("enroll client transcript", [&] { return enroll_client_transcript(s, c, m.csr_der); },
           [&](Back& b) {
               b.domain(enroll_client_domain);
               core(b, s, c, m.csr_der);
           });
}

void on(Seen& seen, const EnrollResult& m) {
    seen.result = m;
    if (!seen.start || !seen.challenge || !seen.csr) return;
    const auto& s = *seen.start;
    const auto& c = *seen.challenge;
    const auto& csr = *seen.csr;
    Sha256 tls{};
    std::copy(m.server_proof.begin(), m.server_proof.end(), tls.begin());  // any 32 bytes
    record("enroll server transcript",
           [&] { return enroll_server_transcript(s, c, csr, m.ca_cert_der, m.cert_der, tls); },
           [&](Back& b) {
               b.domain(enroll_server_domain);
               core(b, s, c, csr.csr_der);
               b.blob(csr.client_proof);
               b.blob(m.ca_cert_der);
               b.blob(m.cert_der);
               b.blob(tls);
           });
}

void on(Seen& seen, const EnrollConfirm& m) {
    if (!seen.start || !seen.challenge || !seen.csr || !seen.result) return;
    const auto& s = *seen.start;
    const auto& c = *seen.challenge;
    const auto& csr = *seen.csr;
    const auto& r = *seen.result;
    Sha256 tls{};
    std::copy(m.confirm_proof.begin(), m.confirm_proof.end(), tls.begin());  // any 32 bytes
    record("enroll confirm transcript",
           [&] { return enroll_confirm_transcript(s, c, csr, r.ca_cert_der, r.cert_der, tls, r.server_proof); },
           [&](Back& b) {
               b.domain(enroll_confirm_domain);
               core(b, s, c, csr.csr_der);
               b.blob(csr.client_proof);
               b.blob(r.ca_cert_der);
               b.blob(r.cert_der);
               b.blob(tls);
               b.blob(r.server_proof);
           });
}

void on(Seen& seen, const UploadBegin& m) {
    seen.upload = m;
}

void on(Seen& seen, const UploadEnd& m) {
    seen.upload_end = m;
    if (!seen.upload) return;
    const auto& u = *seen.upload;
    record("upload record", [&] { return upload_record(seen.user, u, m.sha256); },
           [&](Back& b) {
               b.domain(upload_record_domain);
               b.str(seen.user);
               b.str(u.filename);
               b.u64(u.size);
               b.blob(m.sha256);
               b.i64(u.header.timestamp_ms);
               b.blob(u.header.nonce);
           });
}

void on(Seen& seen, const UploadReceipt& m) {
    // The receipt covers the client's upload signature; without one seen, its own will do.
    const Bytes& sig = seen.upload_end ? seen.upload_end->signature : m.server_signature;
    record("receipt record", [&] { return receipt_record(m, sig); },
           [&](Back& b) {
               b.domain(receipt_record_domain);
               b.str(m.user);
               b.str(m.filename);
               b.u64(m.size);
               b.blob(m.sha256);
               b.i64(m.timestamp_ms);
               b.blob(m.nonce);
               b.blob(sig);
               b.i64(m.stored_at_ms);
           });
}

void on(Seen&, const DownloadHeader& m) {
    record("download record", [&] { return download_record(m); },
           [&](Back& b) {
               b.domain(download_record_domain);
               b.str(m.filename);
               b.u64(m.size);
               b.blob(m.sha256);
               b.i64(m.timestamp_ms);
               b.blob(m.nonce);
           });
}

void on(Seen& seen, const UpdatePassword& m) {
    record("update-password record", [&] { return update_password_record(seen.user, m.header); },
           [&](Back& b) {
               b.domain(update_password_record_domain);
               b.str(seen.user);
               b.u64(m.header.request_id);
               b.i64(m.header.timestamp_ms);
               b.blob(m.header.nonce);
           });
}

void on(Seen& seen, const BatchBegin& m) {
    seen.batch = m;
    seen.batch_files.clear();
}

void on(Seen& seen, const BatchFile& m) {
    if (!seen.batch || seen.batch_files.size() >= seen.batch->count) return;
    Sha256 h{};  // any 32 bytes: the record builder does not hash
    for (std::size_t i = 0; i < m.data.size() && i < h.size(); ++i) h[i] = m.data[i];
    seen.batch_files.push_back(BatchEntry{m.filename, m.data.size(), h});
}

void on(Seen& seen, const BatchEnd& m) {
    seen.batch_end = m;
    if (!seen.batch || seen.batch_files.size() != seen.batch->count) return;
    const auto& bb = *seen.batch;
    record("batch record", [&] { return batch_record(seen.user, bb, seen.batch_files); },
           [&](Back& b) {
               b.domain(batch_record_domain);
               b.str(seen.user);
               b.i64(bb.header.timestamp_ms);
               b.blob(bb.header.nonce);
               b.u32(bb.count);
               b.u8(bb.overwrite ? 1 : 0);
               for (const BatchEntry& e : seen.batch_files) {
                   b.str(e.filename);
                   b.u64(e.size);
                   b.blob(e.sha256);
               }
           });
}

void on(Seen& seen, const BatchReceipt& m) {
    if (!seen.batch) return;
    const auto& bb = *seen.batch;
    const Bytes& sig = seen.batch_end ? seen.batch_end->signature : m.server_signature;
    record("batch receipt record", [&] { return batch_receipt_record(seen.user, bb, sig, m.stored_at_ms); },
           [&](Back& b) {
               b.domain(batch_receipt_record_domain);
               b.str(seen.user);
               b.i64(bb.header.timestamp_ms);
               b.blob(bb.header.nonce);
               b.u32(bb.count);
               b.blob(sig);
               b.i64(m.stored_at_ms);
           });
}

template <typename M>
void on(Seen&, const M&) {}

void on_message(Seen& seen, const Message& msg) {
    std::visit([&](const auto& m) { on(seen, m); }, msg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FrameDecoder dec;
    Seen seen;
    sfts::fuzz::accepted({Errc::protocol, Errc::limit_exceeded}, [&] {
        feed_all(dec, ByteView(data, size), [&](Frame&& f) {
            std::optional<Message> msg;
            const bool ok = sfts::fuzz::accepted({Errc::protocol, Errc::limit_exceeded},
                                                 [&] { msg = decode_message(f); });
            if (ok) on_message(seen, *msg);
        });
    });
    return 0;
}
