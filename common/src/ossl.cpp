#include "sfts/ossl.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

namespace sfts::ossl {

std::string drain_errors() {
    std::string out;
    unsigned long code;
    char buf[256];
    while ((code = ERR_get_error()) != 0) {
        ERR_error_string_n(code, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

void fail_ossl(Errc kind, const std::string& what) {
    std::string errs = drain_errors();
    throw Error(kind, errs.empty() ? what : what + ": " + errs);
}

namespace {

BioPtr mem_bio() { return BioPtr(check_ptr(BIO_new(BIO_s_mem()), "BIO_new")); }

std::string bio_string(BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

BioPtr read_bio(const std::string& s) {
    if (s.size() > 1 << 20) fail(Errc::limit_exceeded, "PEM input larger than 1 MiB");
    return BioPtr(check_ptr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())), "BIO_new_mem_buf"));
}

}  // namespace

std::string to_pem(const X509* cert) {
    auto b = mem_bio();
    check(PEM_write_bio_X509(b.get(), const_cast<X509*>(cert)), "PEM_write_bio_X509");
    return bio_string(b.get());
}

std::string to_pem(const X509_REQ* req) {
    auto b = mem_bio();
    check(PEM_write_bio_X509_REQ(b.get(), const_cast<X509_REQ*>(req)), "PEM_write_bio_X509_REQ");
    return bio_string(b.get());
}

std::string to_pem(const X509_CRL* crl) {
    auto b = mem_bio();
    check(PEM_write_bio_X509_CRL(b.get(), const_cast<X509_CRL*>(crl)), "PEM_write_bio_X509_CRL");
    return bio_string(b.get());
}

std::string public_key_pem(const EVP_PKEY* key) {
    auto b = mem_bio();
    check(PEM_write_bio_PUBKEY(b.get(), const_cast<EVP_PKEY*>(key)), "PEM_write_bio_PUBKEY");
    return bio_string(b.get());
}

X509Ptr x509_from_pem(const std::string& pem) {
    auto b = read_bio(pem);
    X509Ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (!x) fail_ossl(Errc::invalid_argument, "not a PEM certificate");
    return x;
}

X509ReqPtr req_from_pem(const std::string& pem) {
    auto b = read_bio(pem);
    X509ReqPtr r(PEM_read_bio_X509_REQ(b.get(), nullptr, nullptr, nullptr));
    if (!r) fail_ossl(Errc::invalid_argument, "not a PEM certificate request");
    return r;
}

X509CrlPtr crl_from_pem(const std::string& pem) {
    auto b = read_bio(pem);
    X509CrlPtr c(PEM_read_bio_X509_CRL(b.get(), nullptr, nullptr, nullptr));
    if (!c) fail_ossl(Errc::invalid_argument, "not a PEM CRL");
    return c;
}

EvpPkeyPtr public_key_from_pem(const std::string& pem) {
    auto b = read_bio(pem);
    EvpPkeyPtr k(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
    if (!k) fail_ossl(Errc::invalid_argument, "not a PEM public key");
    return k;
}

std::vector<unsigned char> to_der(const X509* cert) {
    int n = i2d_X509(cert, nullptr);
    if (n <= 0) fail_ossl(Errc::crypto, "i2d_X509");
    std::vector<unsigned char> out(static_cast<std::size_t>(n));
    unsigned char* p = out.data();
    if (i2d_X509(cert, &p) != n) fail_ossl(Errc::crypto, "i2d_X509");
    return out;
}

X509Ptr x509_from_der(const unsigned char* der, std::size_t len) {
    if (len > 1 << 20) fail(Errc::limit_exceeded, "DER certificate larger than 1 MiB");
    const unsigned char* p = der;
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(len)));
    if (!x || p != der + len) fail_ossl(Errc::invalid_argument, "not a DER certificate");
    return x;
}

std::string hex(const unsigned char* data, std::size_t len) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (std::size_t i = 0; i < len; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0xf]);
    }
    return out;
}

std::vector<unsigned char> sha256(const void* data, std::size_t len) {
    std::vector<unsigned char> out(SHA256_DIGEST_LENGTH);
    unsigned int n = 0;
    check(EVP_Digest(data, len, out.data(), &n, EVP_sha256(), nullptr), "EVP_Digest");
    return out;
}

std::string serial_hex(const X509* cert) {
    BignumPtr bn(check_ptr(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr), "ASN1_INTEGER_to_BN"));
    char* h = check_ptr(BN_bn2hex(bn.get()), "BN_bn2hex");
    std::string out(h);
    OPENSSL_free(h);
    return out;
}

std::string common_name(const X509_NAME* name) {
    int idx = X509_NAME_get_index_by_NID(const_cast<X509_NAME*>(name), NID_commonName, -1);
    if (idx < 0) return {};
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace sfts::ossl
