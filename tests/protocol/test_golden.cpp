// Byte-exact vectors, written out by hand from docs/protocol.md rather than produced by the
// code under test: if an encoding changes, signatures made by the old code stop verifying,
// so it must never change silently.
#include <boost/test/unit_test.hpp>

#include <string>

#include "samples.hpp"
#include "sfts/protocol/records.hpp"
#include "sfts/protocol/transcript.hpp"

using namespace sfts::proto;
using namespace sfts::proto::test;

namespace {

std::string rep(std::string_view hex_byte, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += hex_byte;
    return s;
}

std::string to_hex(const Bytes& b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t x : b) {
        s += digits[x >> 4];
        s += digits[x & 0xF];
    }
    return s;
}

// Fields shared by the vectors.
constexpr std::int64_t ts = 1700000000000;  // 0x0000018BCFE56800
const std::string ts_hex = "0000018bcfe56800";
const std::string alice = "00000005" "616c696365";
const std::string a_txt = "00000005" "612e747874";
const std::string size5 = "0000000000000005";
const std::string sha_11 = "00000020" + rep("11", 32);
const std::string nonce_22 = "00000010" + rep("22", 16);

CommandHeader header7() { return CommandHeader{7, ts, filled<16>(0x22)}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(golden)

BOOST_AUTO_TEST_CASE(upload_record_bytes) {
    const UploadBegin begin{header7(), "a.txt", 5, false};
    const std::string expected = "0000000e" "73667473" "2d75706c6f6164" "2d7631"  // sfts-upload-v1
                                 + alice + a_txt + size5 + sha_11 + ts_hex + nonce_22;
    BOOST_TEST(to_hex(upload_record("alice", begin, filled<32>(0x11))) == expected);
}

BOOST_AUTO_TEST_CASE(receipt_record_bytes) {
    const UploadReceipt r{7, "alice", "a.txt", 5, filled<32>(0x11), ts, filled<16>(0x22),
                          1700000000500, Bytes{0x01}};
    const std::string expected = "0000000f" "73667473" "2d72656365697074" "2d7631"  // sfts-receipt-v1
                                 + alice + a_txt + size5 + sha_11 + ts_hex + nonce_22 +
                                 "00000003" "aabbcc"     // the client's upload signature
                                 + "0000018bcfe569f4";  // stored at ts + 500 ms
    BOOST_TEST(to_hex(receipt_record(r, Bytes{0xAA, 0xBB, 0xCC})) == expected);
}

BOOST_AUTO_TEST_CASE(download_record_bytes) {
    const DownloadHeader h{7, "a.txt", 5, filled<32>(0x11), ts, filled<16>(0x22), Bytes{0x01}};
    const std::string expected = "00000010" "73667473" "2d646f776e6c6f6164" "2d7631"  // sfts-download-v1
                                 + a_txt + size5 + sha_11 + ts_hex + nonce_22;
    BOOST_TEST(to_hex(download_record(h)) == expected);
}

BOOST_AUTO_TEST_CASE(update_password_record_bytes) {
    const std::string expected =
        "00000017" "73667473" "2d757064617465" "2d70617373776f7264" "2d7631"  // sfts-update-password-v1
        + alice + "0000000000000007" + ts_hex + nonce_22;
    BOOST_TEST(to_hex(update_password_record("alice", header7())) == expected);
}

BOOST_AUTO_TEST_CASE(batch_record_bytes) {
    // Two files, overwrite false: a.txt (5 bytes, sha 11..) then "b" (0 bytes, sha 33..).
    const BatchBegin begin{header7(), 2, false};
    const std::vector<BatchEntry> files{{"a.txt", 5, filled<32>(0x11)}, {"b", 0, filled<32>(0x33)}};
    const std::string expected = "0000000d" "73667473" "2d6261746368" "2d7631"  // sfts-batch-v1
                                 + alice + ts_hex + nonce_22 + "00000002" "00"  // count, overwrite
                                 + a_txt + size5 + sha_11                       // file 1
                                 + "00000001" "62" "0000000000000000" "00000020" + rep("33", 32);
    BOOST_TEST(to_hex(batch_record("alice", begin, files)) == expected);
    // The manifest must hold exactly count files.
    BOOST_CHECK_THROW(batch_record("alice", BatchBegin{header7(), 3, false}, files), sfts::Error);
}

BOOST_AUTO_TEST_CASE(batch_receipt_record_bytes) {
    const BatchBegin begin{header7(), 2, true};
    const std::string expected = "00000015" "73667473" "2d6261746368" "2d72656365697074" "2d7631"  // sfts-batch-receipt-v1
                                 + alice + ts_hex + nonce_22 + "00000002"  // count
                                 + "00000003" "aabbcc"                    // the client's batch signature
                                 + "0000018bcfe569f4";                    // stored at ts + 500 ms
    BOOST_TEST(to_hex(batch_receipt_record("alice", begin, Bytes{0xAA, 0xBB, 0xCC}, ts + 500)) == expected);
}

BOOST_AUTO_TEST_CASE(batch_frames) {
    const std::string header = "0000000000000007" + ts_hex + rep("22", 16);
    BOOST_TEST(to_hex(encode_message(BatchBegin{header7(), 1000, true})) == "00000025" "34" + header + "000003e8" "01");
    // filename as string<255>, then the data with no length of its own
    BOOST_TEST(to_hex(encode_message(BatchFile{"a.txt", Bytes{0x68, 0x69}})) == "0000000b" "35" + a_txt + "6869");
    BOOST_TEST(to_hex(encode_message(BatchFile{"a.txt", {}})) == "00000009" "35" + a_txt);
    BOOST_TEST(to_hex(encode_message(BatchEnd{Bytes{0xAA, 0xBB}})) == "00000006" "36" "00000002" "aabb");
    BOOST_TEST(to_hex(encode_message(BatchReceipt{7, 2, ts + 500, Bytes{0x01}})) ==
               "00000019" "37" "0000000000000007" "00000002" "0000018bcfe569f4" "00000001" "01");
}

BOOST_AUTO_TEST_CASE(enroll_transcripts) {
    const EnrollStart start{SecretKind::enrollment_token, "t1", "alice", filled<32>(0x33)};
    const EnrollChallenge challenge{filled<32>(0x44)};
    const EnrollCsr csr{Bytes{0x30, 0x00}, filled<32>(0x55)};
    const std::string core = "02"                      // secret kind: enrollment token
                             "00000002" "7431"         // token id "t1"
                             + alice                   //
                             + "00000020" + rep("33", 32)  // client nonce
                             + "00000020" + rep("44", 32)  // server nonce
                             + "00000002" "3000";          // CSR
    const std::string client = "00000015" "73667473" "2d656e726f6c6c" "2d636c69656e74" "2d7631"  // sfts-enroll-client-v1
                               + core;
    BOOST_TEST(to_hex(enroll_client_transcript(start, challenge, csr.csr_der)) == client);

    const std::string server = "00000015" "73667473" "2d656e726f6c6c" "2d736572766572" "2d7631"  // sfts-enroll-server-v1
                               + core                           //
                               + "00000020" + rep("55", 32)    // client proof
                               + "00000001" "ca"               // CA certificate
                               + "00000001" "ce"               // issued certificate
                               + "00000020" + rep("66", 32);   // TLS certificate SHA-256
    BOOST_TEST(to_hex(enroll_server_transcript(start, challenge, csr, Bytes{0xCA}, Bytes{0xCE},
                                               filled<32>(0x66))) == server);

    // The confirmation: the server transcript's fields under its own domain, then the server's proof.
    const std::string confirm = "00000016" "73667473" "2d656e726f6c6c" "2d636f6e6669726d" "2d7631"  // sfts-enroll-confirm-v1
                                + server.substr(std::string("00000015").size() + 2 * 21)  // same fields
                                + "00000020" + rep("77", 32);                             // server proof
    BOOST_TEST(to_hex(enroll_confirm_transcript(start, challenge, csr, Bytes{0xCA}, Bytes{0xCE}, filled<32>(0x66),
                                                filled<32>(0x77))) == confirm);
    // enroll_confirm: length 32, type 0x14, the proof
    BOOST_TEST(to_hex(encode_message(EnrollConfirm{filled<32>(0x88)})) == "00000020" "14" + rep("88", 32));
}

BOOST_AUTO_TEST_CASE(site_secret_transcript_has_empty_token_id) {
    const EnrollStart start{SecretKind::site_secret, "", "alice", filled<32>(0x33)};
    const std::string expected = "00000015" "73667473" "2d656e726f6c6c" "2d636c69656e74" "2d7631"
                                 "01" "00000000" + alice + "00000020" + rep("33", 32) +
                                 "00000020" + rep("44", 32) + "00000001" "30";
    BOOST_TEST(to_hex(enroll_client_transcript(start, EnrollChallenge{filled<32>(0x44)}, Bytes{0x30})) ==
               expected);
}

BOOST_AUTO_TEST_CASE(hello_frame) {
    // length 7, type 0x01, "SFTS", version 1, service 2 (file)
    BOOST_TEST(to_hex(encode_message(Hello{1, Service::file})) == "00000007" "01" "53465453" "0001" "02");
    // length 7, type 0x02, "SFTS", version 1, flags 0x01 (initial password required)
    BOOST_TEST(to_hex(encode_message(ServerHello{1, true})) == "00000007" "02" "53465453" "0001" "01");
}

BOOST_AUTO_TEST_CASE(error_reply_frame) {
    // request id 7, status 2 (not_found), message "no"
    BOOST_TEST(to_hex(encode_message(ErrorReply::make(7, sfts::Errc::not_found, "no"))) ==
               "00000010" "04" "0000000000000007" "0002" "00000002" "6e6f");
}

BOOST_AUTO_TEST_CASE(upload_begin_frame) {
    const std::string body = "0000000000000007" + ts_hex + rep("22", 16)  // command header
                             + a_txt + size5 + "01";                      // overwrite
    BOOST_TEST(to_hex(encode_message(UploadBegin{header7(), "a.txt", 5, true})) ==
               "00000032" "30" + body);
}

BOOST_AUTO_TEST_CASE(renew_frames) {
    // command header, then the CSR as bytes+<16384>
    const std::string request = "0000000000000007" + ts_hex + rep("22", 16) + "00000002" "3000";
    BOOST_TEST(to_hex(encode_message(RenewRequest{header7(), Bytes{0x30, 0x00}})) == "00000026" "68" + request);
    // request id 7, then the certificate as bytes+<16384>
    BOOST_TEST(to_hex(encode_message(RenewResult{7, Bytes{0x30, 0x01, 0x02}})) ==
               "0000000f" "69" "0000000000000007" "00000003" "300102");
}

BOOST_AUTO_TEST_SUITE_END()
