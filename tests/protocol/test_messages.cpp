#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "helpers.hpp"
#include "samples.hpp"
#include "sfts/protocol/message.hpp"
#include "sfts/protocol/writer.hpp"

using namespace sfts::proto;
using namespace sfts::proto::test;
using sfts::Errc;

namespace {

Frame frame_of(const Message& m) {
    FrameDecoder dec;
    const Bytes bytes = encode_message(m);
    BOOST_REQUIRE_EQUAL(dec.feed(bytes), bytes.size());
    auto f = dec.next();
    BOOST_REQUIRE(f.has_value());
    return std::move(*f);
}

// Bodies that end in data delimited by the frame alone: more or fewer bytes is other data.
bool is_chunk(MsgType t) {
    return t == MsgType::upload_chunk || t == MsgType::download_chunk || t == MsgType::batch_file;
}

// An UploadBegin body with the filename field spelled byte for byte, bypassing the
// Writer's own checks, as a hostile peer would send it.
Bytes upload_begin_body(std::string_view raw_name) {
    Writer w;
    sample_header(1).write(w);
    w.u32(static_cast<std::uint32_t>(raw_name.size()));
    w.raw(ByteView(reinterpret_cast<const std::uint8_t*>(raw_name.data()), raw_name.size()));
    w.u64(10);
    w.boolean(false);
    return std::move(w).take();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(messages)

BOOST_AUTO_TEST_CASE(samples_cover_every_type_once) {
    const auto types = types_of(one_of_each());
    BOOST_TEST(types.size() == std::variant_size_v<Message>);
    BOOST_TEST(std::set<MsgType>(types.begin(), types.end()).size() == types.size());
    for (MsgType t : types) {
        BOOST_TEST(message_name(t) != "unknown");
        BOOST_TEST(sender_of(t).has_value());
    }
}

BOOST_AUTO_TEST_CASE(round_trip_every_type) {
    for (const Message& m : one_of_each()) {
        BOOST_TEST_CONTEXT("type " << message_name(type_of(m))) {
            const Frame f = frame_of(m);
            BOOST_TEST((f.type == type_of(m)));
            const Message back = decode_message(f);
            BOOST_TEST((back == m));
            // Canonical: the decoded message encodes to the same bytes.
            BOOST_TEST((encode_message(back) == encode_message(m)));
        }
    }
}

BOOST_AUTO_TEST_CASE(trailing_bytes_rejected_for_every_type) {
    for (const Message& m : one_of_each()) {
        if (is_chunk(type_of(m))) continue;  // a chunk body is all data by definition
        BOOST_TEST_CONTEXT("type " << message_name(type_of(m))) {
            Frame f = frame_of(m);
            f.body.push_back(0x00);
            SFTS_CHECK_ERRC(decode_message(f), Errc::protocol);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_truncated_body_rejected) {
    for (const Message& m : one_of_each()) {
        if (is_chunk(type_of(m))) continue;
        BOOST_TEST_CONTEXT("type " << message_name(type_of(m))) {
            const Frame f = frame_of(m);
            for (std::size_t len = 0; len < f.body.size(); ++len) {
                const Frame cut{f.type, Bytes(f.body.begin(), f.body.begin() + static_cast<std::ptrdiff_t>(len))};
                SFTS_CHECK_ERRC(decode_message(cut), Errc::protocol);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_type_rejected) {
    for (std::uint8_t t : {0x00, 0x05, 0x15, 0x7E, 0xFF}) {
        SFTS_CHECK_ERRC(decode_message(Frame{static_cast<MsgType>(t), {}}), Errc::protocol);
        BOOST_TEST(message_name(static_cast<MsgType>(t)) == "unknown");
    }
}

BOOST_AUTO_TEST_CASE(empty_chunks_rejected) {
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_chunk, {}}), Errc::protocol);
    SFTS_CHECK_ERRC(UploadChunk{}.encode(), Errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(renewal_needs_a_csr_and_a_certificate_within_limits) {
    SFTS_CHECK_ERRC((RenewRequest{sample_header(1), {}}.encode()), Errc::invalid_argument);
    SFTS_CHECK_ERRC((RenewResult{1, {}}.encode()), Errc::invalid_argument);
    SFTS_CHECK_ERRC((RenewRequest{sample_header(1), Bytes(max_cert_bytes + 1, 0x30)}.encode()),
                    Errc::limit_exceeded);
    // Over the limit on the wire: refused before anything is allocated.
    Bytes body = RenewRequest{sample_header(1), Bytes{0x30}}.encode();
    body.resize(32);
    for (std::uint8_t b : {0x00, 0x00, 0x40, 0x01}) body.push_back(b);  // 16385
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::renew_request, body}), Errc::limit_exceeded);
    Bytes empty = RenewResult{1, Bytes{0x30}}.encode();
    empty.resize(8 + 4);
    empty[11] = 0;  // a zero length: bytes+ needs one byte at least
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::renew_result, empty}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(batch_limits) {
    // count: 1..max_batch_files on both sides of the wire.
    SFTS_CHECK_ERRC((BatchBegin{sample_header(1), 0, false}.encode()), Errc::invalid_argument);
    SFTS_CHECK_ERRC((BatchBegin{sample_header(1), max_batch_files + 1, false}.encode()), Errc::limit_exceeded);
    Bytes body = BatchBegin{sample_header(1), 1, false}.encode();
    for (std::uint32_t n : {0u, static_cast<std::uint32_t>(max_batch_files + 1), 0xFFFFFFFFu}) {
        Bytes b = body;
        b[32] = static_cast<std::uint8_t>(n >> 24);
        b[33] = static_cast<std::uint8_t>(n >> 16);
        b[34] = static_cast<std::uint8_t>(n >> 8);
        b[35] = static_cast<std::uint8_t>(n);
        if (n == 0)
            SFTS_CHECK_ERRC(decode_message(Frame{MsgType::batch_begin, b}), Errc::protocol);
        else
            SFTS_CHECK_ERRC(decode_message(Frame{MsgType::batch_begin, b}), Errc::limit_exceeded);
    }
    // A file larger than one frame carries is refused by the sender and the receiver.
    SFTS_CHECK_ERRC((BatchFile{"a", Bytes(max_batch_file_bytes + 1, 1)}.encode()), Errc::limit_exceeded);
    Bytes big = BatchFile{"a", {}}.encode();
    big.resize(big.size() + max_batch_file_bytes + 1, 0x41);
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::batch_file, big}), Errc::limit_exceeded);
    Bytes largest = BatchFile{"a", {}}.encode();
    largest.resize(largest.size() + max_batch_file_bytes, 0x41);
    BOOST_TEST(std::get<BatchFile>(decode_message(Frame{MsgType::batch_file, largest})).data.size() ==
               max_batch_file_bytes);
    // A name cut short, a traversal name or one with a slash never decodes.
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::batch_file, Bytes{0, 0, 0, 5, 0x61}}), Errc::protocol);
    for (std::string_view bad : {"..", ".", "a/b", ""}) {
        Writer w;
        w.u32(static_cast<std::uint32_t>(bad.size()));
        w.raw(ByteView(reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size()));
        w.u8(0x41);
        BOOST_TEST_CONTEXT(bad) { BOOST_CHECK_THROW(decode_message(Frame{MsgType::batch_file, std::move(w).take()}), sfts::Error); }
    }
    SFTS_CHECK_ERRC((BatchEnd{}.encode()), Errc::invalid_argument);  // a signature is required
    SFTS_CHECK_ERRC((BatchReceipt{1, 0, 0, Bytes{1}}.encode()), Errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(chunk_limit) {
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::download_chunk, Bytes(max_chunk + 1, 1)}),
                    Errc::limit_exceeded);
    BOOST_CHECK_NO_THROW(decode_message(Frame{MsgType::download_chunk, Bytes(max_chunk, 1)}));
}

BOOST_AUTO_TEST_CASE(hostile_filenames_rejected) {
    using namespace std::string_literals;
    const std::vector<std::string> bad = {
        ""s,           "a\0b"s,        "a\x01"s,          "tab\there"s, "esc\x1b[2J"s,
        "del\x7f"s,    "c1\xC2\x85"s,  "bad\xC3\x28utf8"s, "\xC0\xAF"s,  "\xED\xA0\x80"s,
        "dir/file"s,   "back\\slash"s, "."s,              ".."s,
    };
    for (const std::string& name : bad) {
        BOOST_TEST_CONTEXT("name of " << name.size() << " bytes") {
            SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_begin, upload_begin_body(name)}),
                            Errc::protocol);
            UploadBegin m{sample_header(1), name, 10, false};
            SFTS_CHECK_ERRC(m.encode(), Errc::invalid_argument);
        }
    }
}

BOOST_AUTO_TEST_CASE(filename_length_limit) {
    const std::string longest(max_filename_bytes, 'x');
    const auto m = decode_message(Frame{MsgType::upload_begin, upload_begin_body(longest)});
    BOOST_TEST(std::get<UploadBegin>(m).filename == longest);
    const std::string too_long(max_filename_bytes + 1, 'x');
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_begin, upload_begin_body(too_long)}),
                    Errc::limit_exceeded);
    SFTS_CHECK_ERRC((UploadBegin{sample_header(1), too_long, 1, false}.encode()),
                    Errc::limit_exceeded);
    // Multi-byte characters count in bytes: 128 x "é" is 256 bytes.
    std::string wide;
    for (int i = 0; i < 128; ++i) wide += "\xC3\xA9";
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_begin, upload_begin_body(wide)}),
                    Errc::limit_exceeded);
}

BOOST_AUTO_TEST_CASE(bad_magic_rejected) {
    Bytes body = Hello{}.encode();
    body[0] = 'X';
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::hello, body}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(enumerations_and_flags_are_strict) {
    Bytes hello = Hello{}.encode();
    hello.back() = 3;  // no such service
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::hello, hello}), Errc::protocol);

    Bytes server_hello = ServerHello{}.encode();
    server_hello.back() = 0x02;  // reserved flag
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::server_hello, server_hello}), Errc::protocol);

    Bytes upload = UploadBegin{sample_header(1), "a", 1, true}.encode();
    upload.back() = 2;  // boolean neither 0 nor 1
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::upload_begin, upload}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(enroll_token_id_matches_secret_kind) {
    EnrollStart site{SecretKind::site_secret, "tok", "alice", {}};
    SFTS_CHECK_ERRC(site.encode(), Errc::invalid_argument);
    EnrollStart token{SecretKind::enrollment_token, "", "alice", {}};
    SFTS_CHECK_ERRC(token.encode(), Errc::invalid_argument);

    // Hand-built: kind 1 (site secret) with a token id.
    Writer w;
    w.u8(1);
    w.string("tok", 16, TextRule::name, "t");
    w.string("alice", 16, TextRule::name, "u");
    w.raw(Bytes(32, 0));
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::enroll_start, w.data()}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(error_reply_status) {
    const ErrorReply e = ErrorReply::make(1, Errc::auth_failed, "bad proof");
    const auto back = std::get<ErrorReply>(decode_message(frame_of(e)));
    BOOST_TEST((back.errc() == Errc::auth_failed));

    // A status from a newer peer survives the round trip and reads as protocol.
    ErrorReply future{1, 999, "new"};
    const auto f = std::get<ErrorReply>(decode_message(frame_of(future)));
    BOOST_TEST(f.status == 999);
    BOOST_TEST((f.errc() == Errc::protocol));

    // "Error: ok" is a contradiction.
    SFTS_CHECK_ERRC((ErrorReply{1, 0, "x"}.encode()), Errc::invalid_argument);
    Writer w;
    w.u64(1);
    w.u16(0);
    w.u32(0);
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::error_reply, w.data()}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(message_text_limit_and_escapes) {
    SFTS_CHECK_ERRC((OkReply{1, std::string(max_message_text + 1, 'a')}.encode()),
                    Errc::limit_exceeded);
    Writer w;
    w.u64(1);
    w.u32(9);
    w.raw(Bytes{0x1B, '[', '2', 'J', 'h', 'e', 'l', 'l', 'o'});
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::ok_reply, w.data()}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(list_page_count_checked_before_reserve) {
    Writer w;
    w.u64(1);
    w.u32(static_cast<std::uint32_t>(max_list_entries + 1));
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::list_page, w.data()}), Errc::limit_exceeded);
    Writer w2;
    w2.u64(1);
    w2.u32(static_cast<std::uint32_t>(max_list_entries));  // claims 1000 entries, has none
    w2.u32(0);
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::list_page, w2.data()}), Errc::protocol);

    ListPage too_many;
    too_many.entries.resize(max_list_entries + 1, ListEntry{"a", 1, 1, {}, "u"});
    SFTS_CHECK_ERRC(too_many.encode(), Errc::limit_exceeded);
    ListPage full;
    full.entries.resize(max_list_entries,
                        ListEntry{std::string(max_filename_bytes, 'n'), 1, 1, {},
                                  std::string(max_user_bytes, 'u')});
    BOOST_CHECK_NO_THROW(encode_message(full));  // the largest page fits one frame
}

BOOST_AUTO_TEST_CASE(cursor_may_be_empty_but_not_hostile) {
    BOOST_CHECK_NO_THROW((ListRequest{sample_header(1), ""}.encode()));
    SFTS_CHECK_ERRC((ListRequest{sample_header(1), "../x"}.encode()), Errc::invalid_argument);
    Writer w;
    sample_header(1).write(w);
    w.u32(2);
    w.raw(Bytes{'.', '.'});
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::list_request, w.data()}), Errc::protocol);
}

BOOST_AUTO_TEST_CASE(certificate_and_sasl_limits) {
    SFTS_CHECK_ERRC((EnrollCsr{Bytes(max_cert_bytes + 1, 0x30), {}}.encode()), Errc::limit_exceeded);
    SFTS_CHECK_ERRC((EnrollCsr{Bytes{}, {}}.encode()), Errc::invalid_argument);
    SFTS_CHECK_ERRC((ScramServerFirst{Bytes(max_sasl_bytes + 1, 'r')}.encode()), Errc::limit_exceeded);
    Writer w;
    w.u32(static_cast<std::uint32_t>(max_cert_bytes + 1));
    SFTS_CHECK_ERRC(decode_message(Frame{MsgType::enroll_csr, w.data()}), Errc::limit_exceeded);
}

BOOST_AUTO_TEST_CASE(passwords_are_secrets) {
    BOOST_TEST(carries_secret(MsgType::set_initial_password));
    BOOST_TEST(carries_secret(MsgType::update_password));
    BOOST_TEST(!carries_secret(MsgType::upload_chunk));
    SFTS_CHECK_ERRC((SetInitialPassword{sfts::Secret("")}.encode()), Errc::invalid_argument);
    SFTS_CHECK_ERRC((SetInitialPassword{sfts::Secret("pass\nword")}.encode()), Errc::invalid_argument);
    Bytes b = encode_message(SetInitialPassword{sfts::Secret("hunter2")});
    wipe(b);
    BOOST_TEST(b.empty());
}

BOOST_AUTO_TEST_SUITE_END()
