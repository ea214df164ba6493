// Shared by the PKI tests: a CA whose key lives in a throwaway token, a CA with a software key
// for crafting certificates sfts would never issue, and the openssl CLI as an oracle.
#pragma once

#include <openssl/pem.h>

#include <string>

#include "sfts/error.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/ossl.hpp"
#include "sfts/pki/x509.hpp"
#include "softhsm_fixture.hpp"

namespace sfts::test {

struct TokenCa {
    TestToken tok;
    TempDir dir;
    ossl::EvpPkeyPtr key;
    ossl::X509Ptr cert;
    std::string cert_path;

    TokenCa() {
        tok.token->open(true, &tok.pin).generate_rsa("ca");
        key = hsm::KeyProvider::for_module(module_path()).private_key(tok.uri.with_object("ca"), tok.pin);
        cert = pki::make_ca_certificate(key.get(), {"Test CA", "sfts tests", 30});
        cert_path = dir.file("ca.pem");
        write_text(cert_path, ossl::to_pem(cert.get()));
    }
};

// A certificate with whatever extensions and validity a test wants, signed by issuer_key.
inline ossl::X509Ptr craft_cert(X509* issuer, EVP_PKEY* issuer_key, EVP_PKEY* subject_key, const std::string& cn,
                                const std::vector<std::pair<int, std::string>>& exts, long not_before_offset,
                                long not_after_offset) {
    ossl::X509Ptr x(X509_new());
    X509_set_version(x.get(), X509_VERSION_3);
    auto serial = pki::random_serial();
    X509_set_serialNumber(x.get(), serial.get());
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x.get()));
    X509_gmtime_adj(X509_getm_notBefore(x.get()), not_before_offset);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), not_after_offset);
    X509_set_pubkey(x.get(), subject_key);
    auto all = exts;
    if (issuer) {  // RFC 5280 4.2.1.1: every certificate sfts verifies strictly names its issuer's key
        all.push_back({NID_subject_key_identifier, "hash"});
        all.push_back({NID_authority_key_identifier, "keyid:always"});
    }
    for (const auto& [nid, value] : all) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
        ossl::X509ExtPtr e(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
        if (!e) throw std::runtime_error("bad test extension " + value);
        X509_add_ext(x.get(), e.get(), -1);
    }
    if (X509_sign(x.get(), issuer_key, EVP_sha256()) <= 0) throw std::runtime_error("craft_cert: sign failed");
    return x;
}

inline std::string private_key_pem(EVP_PKEY* k) {
    ossl::BioPtr b(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

inline std::vector<unsigned char> der_of(const X509_REQ* req) {
    int n = i2d_X509_REQ(req, nullptr);
    std::vector<unsigned char> v(static_cast<std::size_t>(n));
    unsigned char* p = v.data();
    i2d_X509_REQ(req, &p);
    return v;
}

inline bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace sfts::test
