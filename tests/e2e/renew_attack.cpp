// Renewal requests the real client never sends, against a running sftsd: a CSR for another
// user, the current key again, a weak key, a garbage CSR, a replayed and a stale renewal. Each
// must be refused without revoking anything: the connection and the certificate keep working.
// The CSRs are signed by software keys: the server cannot tell, and need not.
// usage: renew_attack CLIENT_CONFIG OTHER_USER
#include <openssl/rsa.h>

#include "raw_client.hpp"
#include "sfts/pki/x509.hpp"

using namespace sfts;
using namespace sfts::test_client;

namespace {

proto::Bytes der_of(X509_REQ* req) {
    int n = i2d_X509_REQ(req, nullptr);
    proto::Bytes out(static_cast<std::size_t>(n));
    unsigned char* p = out.data();
    i2d_X509_REQ(req, &p);
    return out;
}

proto::Bytes csr_for(const std::string& user, int bits = 3072) {
    ossl::EvpPkeyPtr key(EVP_RSA_gen(static_cast<unsigned>(bits)));
    return der_of(pki::make_csr(key.get(), user).get());
}

Errc renew_with(Conn& c, const proto::CommandHeader& h, const proto::Bytes& csr, std::string* message = nullptr) {
    c.ch->send(proto::RenewRequest{h, csr}, soon());
    auto m = c.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) {
        if (message) *message = e->message;
        return e->errc();
    }
    std::get<proto::RenewResult>(m);
    return Errc::ok;
}

bool still_works(Conn& c) {
    c.ch->send(proto::ListRequest{c.header(), ""}, soon());
    return std::holds_alternative<proto::ListPage>(c.rx());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: renew_attack CLIENT_CONFIG OTHER_USER\n";
        return 1;
    }
    try {
        Setup s(argv[1]);
        const std::string other = argv[2];
        Conn c = connect(s);
        verdict(login(c, s.user, s.password) == Errc::ok, "baseline login");

        std::string why;
        auto h = c.header();
        verdict(renew_with(c, h, csr_for(other), &why) == Errc::permission_denied,
                "renewal with a CSR naming '" + other + "' refused (" + why + ")");
        // The same header again, now with an acceptable CSR: the nonce is spent.
        h.request_id = c.id++;
        verdict(renew_with(c, h, csr_for(s.user), &why) == Errc::auth_failed, "replayed renewal refused (" + why + ")");
        verdict(renew_with(c, c.header(now_ms() - 5 * 60 * 1000), csr_for(s.user)) == Errc::auth_failed,
                "stale renewal (5 min old) refused");
        verdict(renew_with(c, c.header(), der_of(pki::make_csr(s.key.get(), s.user).get()), &why) == Errc::invalid_argument,
                "renewal with the current key refused (" + why + ")");
        verdict(renew_with(c, c.header(), csr_for(s.user, 2048), &why) == Errc::invalid_argument,
                "renewal with a 2048-bit key refused (" + why + ")");
        verdict(renew_with(c, c.header(), proto::Bytes{0x30, 0x03, 0x02, 0x01, 0x00}) == Errc::invalid_argument,
                "renewal with a malformed CSR refused");
        verdict(still_works(c), "the session goes on after the refusals");
        c.ch->send(proto::ExitRequest{c.header()}, soon());
        c.rx();

        Conn again = connect(s);
        verdict(login(again, s.user, s.password) == Errc::ok && still_works(again),
                "the certificate was not revoked by any refused renewal");
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << "\n";
        return 1;
    }
    std::cout << (failures ? "renewal attacks: some were not refused\n" : "renewal attacks: all refused\n");
    return failures ? 1 : 0;
}
