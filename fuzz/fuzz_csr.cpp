// libFuzzer harness for CSR validation (pki::validate_csr_der, what the enrollment service runs
// on EnrollCsr.csr_der, and pki::validate_csr after ossl::req_from_pem, what `sfts-admin issue`
// runs on a PEM file). Input starting with "-----BEGIN" takes the PEM path, anything else the DER
// path. Invariant: refused with Error(invalid_argument | limit_exceeded), or accepted - and then
// the promise behind "validated" is checked: the name is a valid username, the key is RSA within
// policy, a certificate issued from it by a CA carries exactly that name and key and verifies
// as a client certificate, and validating the request's own re-encoding gives the same result.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "sfts/ossl.hpp"
#include "sfts/pki/x509.hpp"

namespace {

using namespace sfts;
using sfts::fuzz::crash;

struct Ca {
    ossl::EvpPkeyPtr key;
    ossl::X509Ptr cert;
};

const Ca& ca() {
    static const Ca c = [] {
        Ca x;
        x.key.reset(EVP_RSA_gen(2048));
        if (!x.key) crash("CA key generation failed");
        x.cert = pki::make_ca_certificate(x.key.get(), {});
        return x;
    }();
    return c;
}

void check_validated(const pki::ValidatedCsr& v, const X509_REQ* req) {
    const pki::CsrPolicy policy;
    if (!pki::valid_username(v.username)) crash("validated CSR with an invalid username");
    if (EVP_PKEY_get_base_id(v.public_key.get()) != EVP_PKEY_RSA) crash("validated CSR with a non-RSA key");
    const int bits = EVP_PKEY_get_bits(v.public_key.get());
    if (bits < policy.min_rsa_bits || bits > policy.max_rsa_bits) crash("validated CSR key size out of policy");

    // The re-encoding validates identically (DER is canonical for what we accept).
    unsigned char* der = nullptr;
    const int len = i2d_X509_REQ(const_cast<X509_REQ*>(req), &der);
    if (len <= 0) crash("validated CSR cannot be re-encoded");
    std::unique_ptr<unsigned char, decltype([](unsigned char* p) { OPENSSL_free(p); })> owned(der);
    pki::ValidatedCsr again;
    try {
        again = pki::validate_csr_der(der, static_cast<std::size_t>(len));
    } catch (const Error& e) {
        std::fprintf(stderr, "re-validation: %s\n", e.what());
        crash("re-encoded CSR refused");
    }
    if (again.username != v.username || EVP_PKEY_eq(again.public_key.get(), v.public_key.get()) != 1)
        crash("re-encoded CSR validates differently");

    auto cert = pki::issue_client_certificate(ca().cert.get(), ca().key.get(), v, {});
    if (ossl::common_name(X509_get_subject_name(cert.get())) != v.username) crash("issued name differs");
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), v.public_key.get()) != 1) crash("issued key differs");
    try {
        pki::verify_certificate(cert.get(), ca().cert.get(), {.purpose = pki::Purpose::client});
    } catch (const Error& e) {
        std::fprintf(stderr, "verify: %s\n", e.what());
        crash("certificate issued from a validated CSR does not verify");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = sfts::fuzz::chars({data, size});
    const bool pem = in.starts_with("-----BEGIN");
    // The enrollment frame limits a CSR to 16 KiB; a PEM file is base64 of that plus armour.
    if (size > (pem ? 32u << 10 : 20u << 10)) return 0;
    ossl::X509ReqPtr req;
    pki::ValidatedCsr v;
    const bool ok = sfts::fuzz::accepted({Errc::invalid_argument, Errc::limit_exceeded}, [&] {
        if (pem) {
            req = ossl::req_from_pem(std::string(in));
            v = pki::validate_csr(req.get());
        } else {
            v = pki::validate_csr_der(data, size);
            const unsigned char* p = data;
            req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(size)));
        }
    });
    if (ok) {
        sfts::fuzz::note("CSR accepted");
        check_validated(v, req.get());
    }
    ERR_clear_error();
    return 0;
}
