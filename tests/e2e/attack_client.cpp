// A client that speaks the protocol directly to attack a running sftsd: replayed, stale and
// future-dated commands, forged upload signatures and hashes, over-long uploads, and logging in
// as someone other than the certificate's owner. Every attack must be refused and leave
// nothing behind. usage: attack_client CLIENT_CONFIG OTHER_USER OTHER_PASSWORD_FILE
#include <chrono>
#include <iostream>
#include <variant>

#include "sfts/auth/hmac.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/net/channel.hpp"
#include "sfts/pki/pss.hpp"
#include "sfts/protocol/records.hpp"

#include <Poco/Net/StreamSocket.h>

using namespace sfts;

namespace {

int failures = 0;
void verdict(bool ok, const std::string& what) {
    std::cout << (ok ? "ok:   " : "FAIL: ") << what << "\n";
    if (!ok) ++failures;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

net::Deadline soon() { return net::deadline_in(std::chrono::seconds(20)); }

struct Conn {
    std::unique_ptr<net::Channel> ch;
    std::uint64_t id = 1;
    proto::CommandHeader header(std::int64_t ts = now_ms()) {
        proto::CommandHeader h;
        h.request_id = id++;
        h.timestamp_ms = ts;
        auto n = auth::random_bytes(16);
        std::copy(n.begin(), n.end(), h.nonce.begin());
        return h;
    }
    proto::Message rx() { return ch->receive(soon()); }
};

struct Setup {
    client::ClientConfig cfg;
    Secret pin;
    ossl::EvpPkeyPtr key;
    ossl::X509Ptr cert, ca;
};

Conn connect(const Setup& s) {
    Poco::Net::StreamSocket sock;
    sock.connect(Poco::Net::SocketAddress(s.cfg.host, static_cast<Poco::UInt16>(s.cfg.file_port)));
    net::ClientTlsOptions o{s.ca.get(), s.key.get(), s.cert.get(), s.cfg.host};
    auto stream = std::make_unique<net::TlsStream>(net::TlsContext::client(o), sock);
    stream->handshake(soon());
    Conn c;
    c.ch = std::make_unique<net::Channel>(std::move(stream), proto::Side::client, proto::Service::file);
    c.ch->send(proto::Hello{proto::protocol_version, proto::Service::file}, soon());
    std::get<proto::ServerHello>(c.rx());
    return c;
}

// Returns the error the server answered with, or ok.
Errc login(Conn& c, const std::string& user, const Secret& password) {
    auth::ScramClient scram(user, password, c.ch->tls().channel_binding());
    c.ch->send(proto::ScramClientFirst{scram.mechanism(), scram.client_first()}, soon());
    auto m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    c.ch->send(proto::ScramClientFinal{scram.client_final(std::get<proto::ScramServerFirst>(m).sasl)}, soon());
    m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    scram.verify_server_final(std::get<proto::ScramServerFinal>(m).sasl);
    return Errc::ok;
}

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
        Setup s;
        s.cfg = client::load_client_config(argv[1]);
        s.pin = hsm::read_secret(s.cfg.pin, "");
        auto password = hsm::read_secret(s.cfg.password, "");
        s.cert = ossl::x509_from_pem(read_file(s.cfg.cert_path()));
        s.ca = ossl::x509_from_pem(read_file(s.cfg.ca_path()));
        s.key = hsm::KeyProvider::for_module(s.cfg.module).private_key(s.cfg.token.with_object(s.cfg.key_label), s.pin);
        std::string user = ossl::common_name(X509_get_subject_name(s.cert.get()));

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
