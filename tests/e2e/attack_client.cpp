// A client that speaks the protocol directly to attack a running sftsd: replayed, stale and
// future-dated commands, forged upload signatures and hashes, over-long uploads, and logging in
// as someone other than the certificate's owner. Every attack must be refused and leave
// nothing behind. usage: attack_client CLIENT_CONFIG OTHER_USER OTHER_PASSWORD_FILE
#include "raw_client.hpp"

using namespace sfts;
using namespace sfts::test_client;

namespace {

Errc list_with(Conn& c, const proto::CommandHeader& h) {
    c.ch->send(proto::ListRequest{h, ""}, soon());
    auto m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    return Errc::ok;
}

bool listed(Conn& c, const std::string& name) {
    c.ch->send(proto::ListRequest{c.header(), ""}, soon());
    auto page = std::get<proto::ListPage>(c.rx());
    for (const auto& e : page.entries)
        if (e.name == name) return true;
    return false;
}

// Uploads 10 bytes with a chosen sha256 and signature record; returns the server's verdict.
Errc upload(Conn& c, const Setup& s, const std::string& user, const std::string& name, bool bad_hash, bool bad_sig) {
    proto::UploadBegin b{c.header(), name, 10, false};
    c.ch->send(b, soon());
    auto m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    proto::Bytes data(10, 0x41);
    c.ch->send(proto::UploadChunk{data}, soon());
    auto digest = ossl::sha256(data.data(), data.size());
    proto::UploadEnd end;
    std::copy(digest.begin(), digest.end(), end.sha256.begin());
    if (bad_hash) end.sha256[0] ^= 1;
    proto::UploadBegin signed_begin = b;
    if (bad_sig) signed_begin.filename = "something-else.bin";  // a valid signature over another record
    end.signature = pki::pss_sign(s.key.get(), proto::upload_record(user, signed_begin, end.sha256));
    c.ch->send(end, soon());
    m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    std::get<proto::UploadReceipt>(m);
    return Errc::ok;
}

bool listed_after_login(Conn& c, const Setup&, const std::string& user, const Secret& password) {
    if (login(c, user, password) != Errc::ok) throw Error(Errc::auth_failed, "login failed");
    return listed(c, "overflow.bin");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: attack_client CLIENT_CONFIG OTHER_USER OTHER_PASSWORD_FILE\n";
        return 1;
    }
    try {
        Setup s(argv[1]);
        const Secret& password = s.password;
        const std::string& user = s.user;

        {
            Conn c = connect(s);
            verdict(login(c, user, password) == Errc::ok, "baseline login");
            verdict(list_with(c, c.header()) == Errc::ok, "baseline command");
            verdict(list_with(c, c.header(now_ms() - 5 * 60 * 1000)) == Errc::auth_failed, "stale command (5 min old) refused");
            verdict(list_with(c, c.header(now_ms() + 5 * 60 * 1000)) == Errc::auth_failed, "future-dated command refused");
            auto h = c.header();
            verdict(list_with(c, h) == Errc::ok, "fresh command accepted");
            h.request_id = c.id++;
            verdict(list_with(c, h) == Errc::auth_failed, "replayed nonce refused");
            verdict(upload(c, s, user, "forged-sig.bin", false, true) == Errc::integrity, "upload with a signature over another record refused");
            verdict(!listed(c, "forged-sig.bin"), "forged upload not stored");
            verdict(upload(c, s, "mallory", "forged-user.bin", false, false) == Errc::integrity, "upload signed for another user refused");
            verdict(upload(c, s, user, "bad-hash.bin", true, false) == Errc::integrity, "upload with a wrong SHA-256 refused");
            verdict(!listed(c, "bad-hash.bin"), "bad-hash upload not stored");
            verdict(upload(c, s, user, "genuine.bin", false, false) == Errc::ok, "genuine upload accepted");
            verdict(listed(c, "genuine.bin"), "genuine upload listed");
            c.ch->send(proto::DeleteRequest{c.header(), "genuine.bin"}, soon());
            verdict(std::holds_alternative<proto::OkReply>(c.rx()), "cleanup delete");

            // More data than announced: refused, the connection ends, nothing stored.
            c.ch->send(proto::UploadBegin{c.header(), "overflow.bin", 4, false}, soon());
            std::get<proto::OkReply>(c.rx());
            c.ch->send(proto::UploadChunk{proto::Bytes(8, 0x42)}, soon());
            auto m = c.rx();
            auto* e = std::get_if<proto::ErrorReply>(&m);
            verdict(e && e->errc() == Errc::limit_exceeded, "over-long upload refused");
        }
        {
            Conn c = connect(s);
            verdict(!listed_after_login(c, s, user, password), "over-long upload not stored");
        }
        {
            Conn c = connect(s);
            auto other = hsm::read_secret(hsm::SecretSource::parse(std::string("file:") + argv[3]), "");
            verdict(login(c, argv[2], other) == Errc::auth_failed,
                    "login as another user (correct password, wrong certificate) refused");
        }
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << "\n";
        return 1;
    }
    std::cout << (failures ? "attacks: some were not refused\n" : "attacks: all refused\n");
    return failures ? 1 : 0;
}
