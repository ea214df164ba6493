#include "samples.hpp"

#include <string>
#include <utility>

namespace sfts::proto::test {
namespace {

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

template <typename... M>
std::vector<Message> list(M&&... m) {
    std::vector<Message> v;
    (v.emplace_back(std::forward<M>(m)), ...);
    return v;
}

OkReply ok(std::uint64_t id) { return OkReply{id, "ok"}; }

ScramClientFirst client_first() {
    return ScramClientFirst{"SCRAM-SHA-256", bytes_of("n,,n=alice,r=rOprNGfwEbeRWgbNEkqO")};
}

std::vector<Message> scram_login() {
    return list(client_first(),
                ScramServerFirst{bytes_of("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                          "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")},
                ScramClientFinal{bytes_of("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
                                          "hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")},
                ScramServerFinal{bytes_of("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")});
}

void append(std::vector<Message>& to, std::vector<Message>&& from) {
    for (Message& m : from) to.push_back(std::move(m));
}

UploadBegin upload_begin(std::uint64_t id) {
    return UploadBegin{sample_header(id), "report.pdf", 6, true};
}

DownloadHeader download_header(std::uint64_t id) {
    return DownloadHeader{id, "report.pdf", 6, filled<32>(0xA1), 1700000000123,
                          sample_header(id).nonce, Bytes(384, 0x5C)};
}

}  // namespace

CommandHeader sample_header(std::uint64_t request_id) {
    return CommandHeader{request_id, 1700000000000 + static_cast<std::int64_t>(request_id),
                         filled<16>(static_cast<std::uint8_t>(request_id))};
}

std::vector<Message> one_of_each() {
    ListPage page{9, {}, "zeta.txt"};
    page.entries.push_back(ListEntry{"alpha.txt", 42, 1699999999000, filled<32>(0x01), "alice"});
    page.entries.push_back(ListEntry{"βeta.bin", 0, -1, filled<32>(0x02), "bob"});
    return list(  //
        Hello{protocol_version, Service::file},
        ServerHello{protocol_version, true},
        OkReply{3, "uploaded"},
        ErrorReply::make(4, Errc::not_found, "no such file: x.txt"),
        EnrollStart{SecretKind::enrollment_token, "tok-1", "alice", filled<32>(0x33)},
        EnrollChallenge{filled<32>(0x44)},
        EnrollCsr{Bytes{0x30, 0x82, 0x01, 0x0A}, filled<32>(0x55)},
        EnrollResult{Bytes{0x30, 0x01}, Bytes{0x30, 0x02}, filled<32>(0x66)},
        EnrollConfirm{filled<32>(0x67)},
        client_first(),
        ScramServerFirst{bytes_of("r=abc,s=c2FsdA==,i=4096")},
        ScramClientFinal{bytes_of("c=biws,r=abc,p=cHJvb2Y=")},
        ScramServerFinal{bytes_of("v=c2lnbmF0dXJl")},
        SetInitialPassword{Secret("correct horse battery staple")},
        upload_begin(5),
        UploadChunk{bytes_of("hello\n")},
        UploadEnd{filled<32>(0x77), Bytes(384, 0x88)},
        UploadReceipt{5, "alice", "report.pdf", 6, filled<32>(0x77), 1700000000005, filled<16>(5),
                      1700000000999, Bytes(384, 0x99)},
        BatchBegin{sample_header(15), 2, false},
        BatchFile{"a.txt", bytes_of("hello\n")},
        BatchEnd{Bytes(384, 0x8A)},
        BatchReceipt{15, 2, 1700000000999, Bytes(384, 0x9A)},
        DownloadRequest{sample_header(6), "report.pdf"},
        download_header(6),
        DownloadChunk{bytes_of("hello\n")},
        DownloadEnd{6},
        TransferAbort{sample_header(7)},
        ListRequest{sample_header(8), "alpha.txt"},
        std::move(page),
        DeleteRequest{sample_header(10), "old.txt"},
        UpdatePassword{sample_header(11), filled<32>(0xBB), Secret("n3w pässword")},
        HelpRequest{sample_header(12)},
        HelpReply{12, {"upload", "download", "list", "delete", "update", "help", "exit"}},
        ExitRequest{sample_header(13)},
        RenewRequest{sample_header(14), Bytes{0x30, 0x82, 0x01, 0x0B}},
        RenewResult{14, Bytes{0x30, 0x03}});
}

Conversation enroll_conversation() {
    return {Service::enroll,
            list(Hello{protocol_version, Service::enroll}, ServerHello{},
                 EnrollStart{SecretKind::site_secret, "", "alice", filled<32>(0x33)},
                 EnrollChallenge{filled<32>(0x44)},
                 EnrollCsr{Bytes{0x30, 0x82, 0x01, 0x0A}, filled<32>(0x55)},
                 EnrollResult{Bytes{0x30, 0x01}, Bytes{0x30, 0x02}, filled<32>(0x66)},
                 EnrollConfirm{filled<32>(0x67)}, OkReply{0, "enrollment confirmed"})};
}

Conversation file_conversation() {
    std::vector<Message> m = list(Hello{}, ServerHello{});
    append(m, scram_login());
    append(m, list(HelpRequest{sample_header(1)}, HelpReply{1, {"list", "help", "exit"}},
                   ListRequest{sample_header(2), ""}, ListPage{2, {}, ""},
                   upload_begin(3), ok(3), UploadChunk{bytes_of("hel")},
                   UploadChunk{bytes_of("lo\n")}, UploadEnd{filled<32>(0x77), Bytes(384, 0x88)},
                   UploadReceipt{3, "alice", "report.pdf", 6, filled<32>(0x77), 1700000000003,
                                 filled<16>(3), 1700000000999, Bytes(384, 0x99)},
                   DownloadRequest{sample_header(4), "report.pdf"}, download_header(4),
                   DownloadChunk{bytes_of("hello\n")}, DownloadEnd{4},
                   DeleteRequest{sample_header(5), "report.pdf"},
                   ErrorReply::make(5, Errc::permission_denied, "role may not delete"),
                   UpdatePassword{sample_header(6), filled<32>(0xBB), Secret("n3w")}, ok(6),
                   ExitRequest{sample_header(7)}, ok(7)));
    return {Service::file, std::move(m)};
}

Conversation initial_password_conversation() {
    std::vector<Message> m =
        list(Hello{}, ServerHello{protocol_version, true}, SetInitialPassword{Secret("first")}, ok(0));
    append(m, scram_login());
    append(m, list(ExitRequest{sample_header(1)}, ok(1)));
    return {Service::file, std::move(m)};
}

Conversation abort_conversation() {
    std::vector<Message> m = list(Hello{}, ServerHello{});
    append(m, scram_login());
    append(m, list(upload_begin(1), ok(1), UploadChunk{bytes_of("hel")}, TransferAbort{sample_header(2)},
                   ok(2), DownloadRequest{sample_header(3), "report.pdf"}, download_header(3),
                   DownloadChunk{bytes_of("hel")}, TransferAbort{sample_header(4)},
                   DownloadChunk{bytes_of("lo\n")}, DownloadEnd{3}, ok(4),
                   ExitRequest{sample_header(5)}, ok(5)));
    return {Service::file, std::move(m)};
}

Conversation batch_conversation() {
    std::vector<Message> m = list(Hello{}, ServerHello{});
    append(m, scram_login());
    append(m, list(BatchBegin{sample_header(1), 3, false}, ok(1), BatchFile{"a.txt", bytes_of("hello\n")},
                   BatchFile{"b.txt", {}}, BatchFile{"c.txt", bytes_of("c")}, BatchEnd{Bytes(384, 0x8A)},
                   BatchReceipt{1, 3, 1700000000999, Bytes(384, 0x9A)},
                   BatchBegin{sample_header(2), 2, true},
                   ErrorReply::make(2, Errc::permission_denied, "role may not batch"),
                   BatchBegin{sample_header(3), 2, true}, ok(3), BatchFile{"a.txt", bytes_of("x")},
                   TransferAbort{sample_header(4)}, ok(4),
                   BatchBegin{sample_header(5), 1, false}, ok(5), BatchFile{"a.txt", bytes_of("y")},
                   BatchEnd{Bytes(384, 0x8B)}, ErrorReply::make(5, Errc::already_exists, "file 1 'a.txt' exists"),
                   ExitRequest{sample_header(6)}, ok(6)));
    return {Service::file, std::move(m)};
}

Bytes encode_all(const std::vector<Message>& messages) {
    Bytes out;
    for (const Message& m : messages) {
        const Bytes f = encode_message(m);
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

std::vector<MsgType> types_of(const std::vector<Message>& messages) {
    std::vector<MsgType> t;
    for (const Message& m : messages) t.push_back(type_of(m));
    return t;
}

}  // namespace sfts::proto::test
