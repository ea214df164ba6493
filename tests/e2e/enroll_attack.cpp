// Enrollments that are never confirmed (docs/protocol.md 4.2), against a running sftsd: what the
// real client does when it detects a relay (it stops after the server's answer and closes), a
// relay that keeps the connection open, and a relay that tries to confirm without the secret.
// In each case the certificate the server issued must not log in, neither while the enrollment
// waits nor after it was undone; the shell test then checks that the honest retry succeeds.
// usage: enroll_attack close|hold|badconfirm CLIENT_CONFIG SECRET_FILE TOKEN_ID|- SERVER_CRL CERT_OUT
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <thread>

#include "raw_client.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/protocol/transcript.hpp"

using namespace sfts;
using namespace sfts::test_client;

namespace {

ossl::EvpPkeyPtr software_key() {
    ossl::EvpPkeyPtr k(EVP_RSA_gen(3072));
    if (!k) ossl::fail_ossl(Errc::crypto, "EVP_RSA_gen");
    return k;
}

std::unique_ptr<net::Channel> open(const client::ClientConfig& cfg, int port, std::shared_ptr<net::TlsContext> tls,
                                   proto::Service service) {
    Poco::Net::StreamSocket sock;
    sock.connect(Poco::Net::SocketAddress(cfg.host, static_cast<Poco::UInt16>(port)));
    auto stream = std::make_unique<net::TlsStream>(std::move(tls), sock);
    stream->handshake(soon());
    return std::make_unique<net::Channel>(std::move(stream), proto::Side::client, service);
}

// Logs in to the file service with the certificate and its key. Returns "accepted" if the
// server let it in (it answered server_hello), else why not: its error_reply, or the closed
// connection or failed handshake once the certificate is on the CRL.
std::string file_service_answer(const client::ClientConfig& cfg, X509* ca, EVP_PKEY* key, X509* cert) {
    std::string answer;
    try {
        net::ClientTlsOptions o{ca, key, cert, cfg.host};
        auto ch = open(cfg, cfg.file_port, net::TlsContext::client(o), proto::Service::file);
        ch->send(proto::Hello{proto::protocol_version, proto::Service::file}, soon());
        auto m = ch->receive(soon());
        if (auto* e = std::get_if<proto::ErrorReply>(&m))
            answer = "error_reply: " + e->message;
        else
            answer = std::holds_alternative<proto::ServerHello>(m) ? "accepted" : "unexpected message";
    } catch (const Error& e) {
        answer = e.what();
    }
    std::cout << "      (file service: " << answer << ")\n";
    return answer;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::cerr << "usage: enroll_attack close|hold|badconfirm CLIENT_CONFIG SECRET_FILE TOKEN_ID|- SERVER_CRL CERT_OUT\n";
        return 1;
    }
    const std::string mode = argv[1];
    try {
        auto cfg = client::load_client_config(argv[2]);
        auto secret = hsm::read_secret(hsm::SecretSource::parse(std::string("file:") + argv[3]), "");
        const std::string token_id = std::string(argv[4]) == "-" ? "" : argv[4];
        const std::string crl_path = argv[5];
        const std::string cert_out = argv[6];
        auto key = software_key();
        auto req = pki::make_csr(key.get(), cfg.user);
        int n = i2d_X509_REQ(req.get(), nullptr);
        proto::Bytes csr_der(static_cast<std::size_t>(n));
        unsigned char* p = csr_der.data();
        i2d_X509_REQ(req.get(), &p);

        net::ClientTlsOptions topts;
        topts.server_name = cfg.host;
        auto ch = open(cfg, cfg.enroll_port, net::TlsContext::client(topts), proto::Service::enroll);
        auto fp = pki::fingerprint(ch->tls().peer_certificate().get());
        proto::Sha256 tls_fp{};
        std::copy(fp.begin(), fp.end(), tls_fp.begin());
        ch->send(proto::Hello{proto::protocol_version, proto::Service::enroll}, soon());
        std::get<proto::ServerHello>(ch->receive(soon()));
        proto::EnrollStart start;
        start.secret_kind = token_id.empty() ? proto::SecretKind::site_secret : proto::SecretKind::enrollment_token;
        start.token_id = token_id;
        start.user = cfg.user;
        auto cn = auth::random_bytes(32);
        std::copy(cn.begin(), cn.end(), start.client_nonce.begin());
        ch->send(start, soon());
        auto challenge = std::get<proto::EnrollChallenge>(ch->receive(soon()));
        proto::EnrollCsr csr{csr_der, {}};
        csr.client_proof = auth::hmac_sha256(secret.bytes(), proto::enroll_client_transcript(start, challenge, csr_der));
        ch->send(csr, soon());
        auto m = ch->receive(soon());
        auto* result = std::get_if<proto::EnrollResult>(&m);
        verdict(result != nullptr, "the server answered the enrollment with a certificate");
        if (!result) return 1;
        auto ca = ossl::x509_from_der(result->ca_cert_der.data(), result->ca_cert_der.size());
        auto cert = ossl::x509_from_der(result->cert_der.data(), result->cert_der.size());
        write_file_atomic(cert_out, ossl::to_pem(cert.get()), 0644);
        std::cout << "      certificate " << ossl::serial_hex(cert.get()) << " issued, not confirmed\n";

        // Pending: the certificate is valid on paper (not on the CRL yet) but must not log in.
        // Past TLS (it is on no CRL yet), the server itself refuses it (its log says why).
        verdict(file_service_answer(cfg, ca.get(), key.get(), cert.get()).starts_with("error_reply: "),
                "the certificate of an enrollment waiting for its confirmation cannot log in");

        if (mode == "close") {
            ch.reset();  // what the real client does when the server's proof does not verify
        } else if (mode == "hold") {
            // A relay that keeps the connection open: the server gives up at its deadline.
            bool closed = false;
            try {
                auto again = ch->receive(net::deadline_in(std::chrono::seconds(120)));
                if (auto* e = std::get_if<proto::ErrorReply>(&again)) std::cout << "      (server: " << e->message << ")\n";
                closed = std::holds_alternative<proto::ErrorReply>(again);
            } catch (const Error& e) {
                closed = e.kind() != Errc::timeout;
            }
            verdict(closed, "the server ends an enrollment that is not confirmed in time");
        } else if (mode == "badconfirm") {
            proto::EnrollConfirm forged;
            auto junk = auth::random_bytes(32);
            std::copy(junk.begin(), junk.end(), forged.confirm_proof.begin());
            ch->send(forged, soon());
            Errc answer = Errc::ok;
            try {
                answer = reply_kind(ch->receive(soon()));
            } catch (const Error& e) {
                answer = e.kind();
            }
            verdict(answer == Errc::auth_failed, "a confirmation without the secret is refused");
        } else {
            std::cerr << "unknown mode " << mode << "\n";
            return 1;
        }

        // Undone: revoked, and refused by the running server. It may take the server a moment to
        // notice a closed connection; wait for its verdict (the CRL lists the serial), bounded.
        bool revoked = false;
        for (int i = 0; i < 600 && !revoked; ++i) {  // at most 120 s
            auto crl = ossl::crl_from_pem(read_file(crl_path));
            const auto* list = X509_CRL_get_REVOKED(crl.get());
            for (int j = 0; list && j < sk_X509_REVOKED_num(list); ++j)
                if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(list, j)),
                                     X509_get0_serialNumber(cert.get())) == 0)
                    revoked = true;
            if (!revoked) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        verdict(revoked, "the unconfirmed certificate is revoked (on the CRL)");
        verdict(file_service_answer(cfg, ca.get(), key.get(), cert.get()) != "accepted",
                "the certificate of an undone enrollment cannot log in");
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << "\n";
        return 1;
    }
    std::cout << (failures ? "unconfirmed enrollment: some checks failed\n" : "unconfirmed enrollment: all refused\n");
    return failures ? 1 : 0;
}
