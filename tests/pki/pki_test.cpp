#define BOOST_TEST_MODULE pki
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "pki_helpers.hpp"
#include "sfts/files.hpp"
#include "sfts/pki/pss.hpp"

using namespace sfts;
using test::contains;
using test::kind_of;

namespace {

std::vector<unsigned char> bytes(const std::string& s) { return {s.begin(), s.end()}; }

// `openssl req` making a software-key CSR, as a third-party client would.
std::string cli_csr(const test::TempDir& dir, const std::string& name, const std::string& extra,
                    int bits = 3072) {
    std::string out = dir.file(name + ".csr");
    auto r = test::run("openssl req -new -newkey rsa:" + std::to_string(bits) + " -nodes -keyout " +
                       dir.file(name + ".key") + " -out " + out + " " + extra);
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
    return read_file(out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(certificates)

BOOST_AUTO_TEST_CASE(ca_certificate_profile) {
    test::TokenCa ca;
    X509* x = ca.cert.get();
    BOOST_TEST(X509_check_ca(x) == 1);
    int idx = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
    BOOST_REQUIRE(idx >= 0);
    BOOST_TEST(X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 1);
    BOOST_TEST(X509_get_key_usage(x) == static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    BOOST_TEST(X509_get0_subject_key_id(x) != nullptr);
    BOOST_TEST(EVP_PKEY_get_bits(X509_get0_pubkey(x)) == 3072);
    BOOST_TEST(X509_get_signature_nid(x) == NID_sha256WithRSAEncryption);
    // Oracle: the openssl CLI accepts it as a self-signed root.
    auto r = test::run("openssl verify -CAfile " + ca.cert_path + " " + ca.cert_path);
    BOOST_TEST(r.status == 0, r.output);
    auto text = test::run("openssl x509 -noout -text -in " + ca.cert_path).output;
    BOOST_TEST(contains(text, "CA:TRUE"));
    BOOST_TEST(contains(text, "Certificate Sign, CRL Sign"));
}

BOOST_AUTO_TEST_CASE(token_csr_verifies_with_openssl_cli) {
    test::TokenCa ca;
    ca.tok.token->open(true, &ca.tok.pin).generate_rsa("alice");
    auto key = hsm::KeyProvider::for_module(test::module_path()).private_key(ca.tok.uri.with_object("alice"), ca.tok.pin);
    auto req = pki::make_csr(key.get(), "alice");
    std::string path = ca.dir.file("alice.csr");
    test::write_text(path, ossl::to_pem(req.get()));
    auto r = test::run("openssl req -verify -noout -subject -in " + path);
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(contains(r.output, "CN = alice"), r.output);
    auto v = pki::validate_csr(req.get());
    BOOST_TEST(v.username == "alice");
    BOOST_TEST((kind_of([&] { pki::make_csr(key.get(), "Alice/../root"); }) == Errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(client_certificate_from_cli_csr_verifies_with_cli) {
    test::TokenCa ca;
    auto csr = pki::validate_csr(ossl::req_from_pem(cli_csr(ca.dir, "bob", "-subj /CN=bob")).get());
    auto cert = pki::issue_client_certificate(ca.cert.get(), ca.key.get(), csr, {30});
    std::string path = ca.dir.file("bob.pem");
    test::write_text(path, ossl::to_pem(cert.get()));
    auto r = test::run("openssl verify -purpose sslclient -x509_strict -CAfile " + ca.cert_path + " " + path);
    BOOST_TEST(r.status == 0, r.output);
    r = test::run("openssl verify -purpose sslserver -CAfile " + ca.cert_path + " " + path);
    BOOST_TEST(r.status != 0, "a client certificate passed as a server certificate");
    // Profile: 128-bit serial, CA:FALSE, digitalSignature only, clientAuth, SKI + AKI.
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
    BOOST_TEST(ASN1_STRING_length(serial) == 16);
    BOOST_TEST(X509_check_ca(cert.get()) == 0);
    BOOST_TEST(X509_get_key_usage(cert.get()) == static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
    BOOST_TEST(X509_get_extended_key_usage(cert.get()) == static_cast<uint32_t>(XKU_SSL_CLIENT));
    BOOST_TEST(X509_get0_subject_key_id(cert.get()) != nullptr);
    BOOST_TEST(X509_get0_authority_key_id(cert.get()) != nullptr);
    BOOST_TEST(ossl::common_name(X509_get_subject_name(cert.get())) == "bob");
    pki::verify_certificate(cert.get(), ca.cert.get());
    // Two issuances never share a serial.
    auto again = pki::issue_client_certificate(ca.cert.get(), ca.key.get(), csr, {30});
    BOOST_TEST(ossl::serial_hex(again.get()) != ossl::serial_hex(cert.get()));
}

BOOST_AUTO_TEST_CASE(crl_signed_in_token_verifies_and_revokes) {
    test::TokenCa ca;
    auto csr = pki::validate_csr(ossl::req_from_pem(cli_csr(ca.dir, "carol", "-subj /CN=carol")).get());
    auto cert = pki::issue_client_certificate(ca.cert.get(), ca.key.get(), csr, {30});
    std::string cert_path = ca.dir.file("carol.pem"), crl_path = ca.dir.file("crl.pem");
    test::write_text(cert_path, ossl::to_pem(cert.get()));

    auto empty = pki::make_crl(ca.cert.get(), ca.key.get(), {}, 1);
    test::write_text(crl_path, ossl::to_pem(empty.get()));
    auto r = test::run("openssl crl -noout -CAfile " + ca.cert_path + " -in " + crl_path);
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(contains(r.output, "verify OK"), r.output);
    pki::verify_certificate(cert.get(), ca.cert.get(), {pki::Purpose::client, empty.get(), {}});

    auto crl = pki::make_crl(ca.cert.get(), ca.key.get(), {{ossl::serial_hex(cert.get()), std::time(nullptr), 1}}, 2);
    test::write_text(crl_path, ossl::to_pem(crl.get()));
    r = test::run("openssl verify -crl_check -CRLfile " + crl_path + " -CAfile " + ca.cert_path + " " + cert_path);
    BOOST_TEST(r.status != 0);
    BOOST_TEST(contains(r.output, "revoked"), r.output);
    auto text = test::run("openssl crl -noout -text -in " + crl_path).output;
    BOOST_TEST(contains(text, "X509v3 CRL Number"), text);
    BOOST_TEST(contains(text, "Key Compromise"), text);
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::verify_certificate(cert.get(), ca.cert.get(), {pki::Purpose::client, crl.get(), {}}); },
                        &msg) == Errc::auth_failed));
    BOOST_TEST(contains(msg, "revoked"), msg);
    // A CRL-checked verification without the CRL's signer trusted fails closed.
    test::TokenCa other;
    auto foreign = pki::make_crl(other.cert.get(), other.key.get(), {}, 1);
    BOOST_TEST((kind_of([&] { pki::verify_certificate(cert.get(), ca.cert.get(), {pki::Purpose::client, foreign.get(), {}}); }) ==
                Errc::auth_failed));
}

BOOST_AUTO_TEST_CASE(server_certificate_has_san_and_server_auth) {
    test::TokenCa ca;
    ca.tok.token->open(true, &ca.tok.pin).generate_rsa("srv");
    auto s = ca.tok.token->open(false, &ca.tok.pin);
    auto pub = s.public_key(*s.find_key("srv"));
    auto cert = pki::issue_server_certificate(ca.cert.get(), ca.key.get(), pub.get(),
                                              {"sfts.example", {"sfts.example", "localhost"}, {"127.0.0.1", "::1"}, 30});
    std::string path = ca.dir.file("srv.pem");
    test::write_text(path, ossl::to_pem(cert.get()));
    auto r = test::run("openssl verify -purpose sslserver -verify_hostname sfts.example -CAfile " + ca.cert_path + " " + path);
    BOOST_TEST(r.status == 0, r.output);
    r = test::run("openssl verify -purpose sslserver -verify_ip 127.0.0.1 -CAfile " + ca.cert_path + " " + path);
    BOOST_TEST(r.status == 0, r.output);
    r = test::run("openssl verify -purpose sslserver -verify_hostname evil.example -CAfile " + ca.cert_path + " " + path);
    BOOST_TEST(r.status != 0);
    pki::verify_certificate(cert.get(), ca.cert.get(), {pki::Purpose::server, nullptr, {}});
    BOOST_TEST((kind_of([&] { pki::verify_certificate(cert.get(), ca.cert.get()); }) == Errc::auth_failed));
    BOOST_TEST((kind_of([&] {
                    pki::issue_server_certificate(ca.cert.get(), ca.key.get(), pub.get(), {"x", {}, {}, 30});
                }) == Errc::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(signatures)

BOOST_AUTO_TEST_CASE(token_pss_signature_verifies_with_openssl_cli) {
    test::TestToken t;
    auto s = t.token->open(true, &t.pin);
    auto handle = s.generate_rsa("signer");
    auto pub = s.public_key(handle);
    auto key = hsm::KeyProvider::for_module(test::module_path()).private_key(t.uri.with_object("signer"), t.pin);
    test::TempDir dir;
    std::string data = "file record: alice/report.pdf 1048576 bytes";
    test::write_text(dir.file("data"), data);
    test::write_text(dir.file("pub.pem"), ossl::public_key_pem(pub.get()));
    auto sig = pki::pss_sign(key.get(), bytes(data));
    test::write_text(dir.file("sig"), std::string(sig.begin(), sig.end()));
    const std::string opts = " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 ";
    auto r = test::run("openssl dgst -sha256" + opts + "-verify " + dir.file("pub.pem") + " -signature " + dir.file("sig") +
                       " " + dir.file("data"));
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(contains(r.output, "Verified OK"), r.output);
    // The CLI insists on salt length 32: a signature with another salt length must not pass as ours.
    test::write_text(dir.file("data"), data + "!");
    r = test::run("openssl dgst -sha256" + opts + "-verify " + dir.file("pub.pem") + " -signature " + dir.file("sig") +
                  " " + dir.file("data"));
    BOOST_TEST(r.status != 0);
}

BOOST_AUTO_TEST_CASE(openssl_cli_pss_signature_verifies_with_our_code) {
    test::TempDir dir;
    auto r = test::run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out " + dir.file("k.pem") +
                       " && openssl pkey -pubout -in " + dir.file("k.pem") + " -out " + dir.file("pub.pem"));
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
    std::string data = "signed by the CLI";
    test::write_text(dir.file("data"), data);
    auto sign = [&](const std::string& salt) {
        auto rr = test::run("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:" + salt +
                            " -sigopt rsa_mgf1_md:sha256 -sign " + dir.file("k.pem") + " -out " + dir.file("sig") + " " +
                            dir.file("data"));
        BOOST_REQUIRE_MESSAGE(rr.status == 0, rr.output);
        std::string s = read_file(dir.file("sig"));
        return std::vector<unsigned char>(s.begin(), s.end());
    };
    auto pub = ossl::public_key_from_pem(read_file(dir.file("pub.pem")));
    auto sig = sign("32");
    BOOST_TEST(pki::pss_verify(pub.get(), bytes(data), sig));
    BOOST_TEST(!pki::pss_verify(pub.get(), bytes(data + "x"), sig));
    sig[10] ^= 0x40;
    BOOST_TEST(!pki::pss_verify(pub.get(), bytes(data), sig));
    // Another salt length is another signature scheme: refused.
    BOOST_TEST(!pki::pss_verify(pub.get(), bytes(data), sign("20")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(csr_validation)

BOOST_AUTO_TEST_CASE(bad_csrs_are_refused_with_a_reason) {
    test::TempDir dir;
    auto expect = [&](const std::string& pem, const std::string& reason) {
        std::string msg;
        auto kind = kind_of([&] { pki::validate_csr(ossl::req_from_pem(pem).get()); }, &msg);
        BOOST_TEST((kind == Errc::invalid_argument), reason << ": " << msg);
        BOOST_TEST(contains(msg, reason), msg);
    };
    expect(cli_csr(dir, "small", "-subj /CN=dave", 2048), "2048 bits");
    expect(cli_csr(dir, "san", "-subj /CN=dave -addext subjectAltName=DNS:evil.example"), "attributes");
    expect(cli_csr(dir, "ca", "-subj /CN=dave -addext basicConstraints=critical,CA:TRUE"), "attributes");
    expect(cli_csr(dir, "org", "-subj /O=Evil/CN=dave"), "exactly one CN");
    expect(cli_csr(dir, "two", "-subj /CN=dave/CN=admin"), "exactly one CN");
    expect(cli_csr(dir, "upper", "-subj /CN=Dave"), "valid username");
    expect(cli_csr(dir, "dots", "-subj '/CN=..\\/..\\/etc'"), "valid username");
    expect(cli_csr(dir, "ou", "-subj /OU=x"), "CN");

    // Tampered signature: flip a byte of the signature at the end of the DER.
    auto good = ossl::req_from_pem(cli_csr(dir, "good", "-subj /CN=dave"));
    BOOST_TEST(pki::validate_csr(good.get()).username == "dave");
    auto der = test::der_of(good.get());
    der[der.size() - 5] ^= 0x01;
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::validate_csr_der(der.data(), der.size()); }, &msg) == Errc::invalid_argument));
    BOOST_TEST(contains(msg, "self-signature"), msg);
    // Malformed: garbage, truncation, trailing bytes, oversize.
    std::vector<unsigned char> garbage(300, 0x30);
    BOOST_TEST((kind_of([&] { pki::validate_csr_der(garbage.data(), garbage.size()); }) == Errc::invalid_argument));
    der = test::der_of(good.get());
    BOOST_TEST((kind_of([&] { pki::validate_csr_der(der.data(), der.size() - 1); }) == Errc::invalid_argument));
    der.push_back(0);
    BOOST_TEST((kind_of([&] { pki::validate_csr_der(der.data(), der.size()); }) == Errc::invalid_argument));
    std::vector<unsigned char> huge(20000, 0);
    BOOST_TEST((kind_of([&] { pki::validate_csr_der(huge.data(), huge.size()); }) == Errc::limit_exceeded));
    BOOST_TEST((kind_of([&] { ossl::req_from_pem("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"); }) ==
                Errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(usernames) {
    for (const char* ok : {"alice", "a", "bob.smith", "x_1-2", "0day"}) BOOST_TEST(pki::valid_username(ok), ok);
    for (const char* bad : {"", "Alice", ".hidden", "-x", "a b", "a/b", "é", "root\n", "a\x01"})
        BOOST_TEST(!pki::valid_username(bad), bad);
    BOOST_TEST(pki::valid_username(std::string(64, 'a')));
    BOOST_TEST(!pki::valid_username(std::string(65, 'a')));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(chain_verification)

// A software CA: it lets the test craft certificates that sfts itself would never issue.
struct SoftCa {
    ossl::EvpPkeyPtr key{EVP_RSA_gen(2048)};
    ossl::X509Ptr cert = pki::make_ca_certificate(key.get(), {"Soft CA", "", 30});
    ossl::EvpPkeyPtr leaf_key{EVP_RSA_gen(2048)};
    ossl::X509Ptr leaf(const std::vector<std::pair<int, std::string>>& exts, long nb = -60, long na = 86400) {
        return test::craft_cert(cert.get(), key.get(), leaf_key.get(), "erin", exts, nb, na);
    }
};

const std::vector<std::pair<int, std::string>> kClientExts = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_ext_key_usage, "clientAuth"},
};

std::string rejection(X509* leaf, X509* ca, const pki::VerifyOptions& o = {}) {
    std::string msg;
    Errc k = kind_of([&] { pki::verify_certificate(leaf, ca, o); }, &msg);
    BOOST_TEST((k == Errc::auth_failed), "accepted, or wrong error kind: " << msg);
    return msg;
}

BOOST_AUTO_TEST_CASE(accepts_a_proper_client_certificate) {
    SoftCa ca;
    auto leaf = ca.leaf(kClientExts);
    pki::verify_certificate(leaf.get(), ca.cert.get());
}

BOOST_AUTO_TEST_CASE(rejects_wrong_ca) {
    SoftCa ca, other;
    auto leaf = ca.leaf(kClientExts);
    BOOST_TEST(contains(rejection(leaf.get(), other.cert.get()), "unable to get local issuer"));
}

BOOST_AUTO_TEST_CASE(rejects_expired_and_not_yet_valid) {
    SoftCa ca;
    auto expired = ca.leaf(kClientExts, -10 * 86400, -86400);
    BOOST_TEST(contains(rejection(expired.get(), ca.cert.get()), "expired"));
    auto future = ca.leaf(kClientExts, 86400, 10 * 86400);
    BOOST_TEST(contains(rejection(future.get(), ca.cert.get()), "not yet valid"));
    // And a good certificate judged at a time past its end.
    auto good = ca.leaf(kClientExts);
    BOOST_TEST(contains(rejection(good.get(), ca.cert.get(), {pki::Purpose::client, nullptr, std::time(nullptr) + 5 * 86400}),
                        "expired"));
}

BOOST_AUTO_TEST_CASE(rejects_revoked) {
    SoftCa ca;
    auto leaf = ca.leaf(kClientExts);
    auto crl = pki::make_crl(ca.cert.get(), ca.key.get(), {{ossl::serial_hex(leaf.get()), std::time(nullptr), 0}}, 1);
    BOOST_TEST(contains(rejection(leaf.get(), ca.cert.get(), {pki::Purpose::client, crl.get(), {}}), "revoked"));
}

BOOST_AUTO_TEST_CASE(rejects_ca_true_leaf) {
    SoftCa ca;
    auto leaf = ca.leaf({{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,digitalSignature,keyCertSign"},
                         {NID_ext_key_usage, "clientAuth"}});
    BOOST_TEST(contains(rejection(leaf.get(), ca.cert.get()), "CA certificate"));
}

BOOST_AUTO_TEST_CASE(rejects_wrong_or_missing_eku) {
    SoftCa ca;
    auto server = ca.leaf({{NID_basic_constraints, "critical,CA:FALSE"}, {NID_ext_key_usage, "serverAuth"}});
    rejection(server.get(), ca.cert.get());
    auto none = ca.leaf({{NID_basic_constraints, "critical,CA:FALSE"}, {NID_key_usage, "critical,digitalSignature"}});
    BOOST_TEST(contains(rejection(none.get(), ca.cert.get()), "clientAuth"));
}

BOOST_AUTO_TEST_CASE(rejects_self_signed_leaf) {
    SoftCa ca;
    auto self = test::craft_cert(nullptr, ca.leaf_key.get(), ca.leaf_key.get(), "erin", kClientExts, -60, 86400);
    rejection(self.get(), ca.cert.get());
}

BOOST_AUTO_TEST_SUITE_END()
