// Owning handles for OpenSSL objects (docs/conventions.md §3) and error-queue helpers.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "sfts/error.hpp"

namespace sfts::ossl {

template <auto Fn>
struct Deleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        if (p) Fn(p);
    }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, Deleter<X509_REVOKED_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;

inline void free_ext_stack(STACK_OF(X509_EXTENSION) * s) {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}
using ExtStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<free_ext_stack>>;

// Drains OpenSSL's thread-local error queue into one readable line.
std::string drain_errors();

// Throws Error(kind, what + ": " + drained OpenSSL errors).
[[noreturn]] void fail_ossl(Errc kind, const std::string& what);

// Checks an OpenSSL "1 means success" return.
inline void check(int rc, const char* what, Errc kind = Errc::crypto) {
    if (rc != 1) fail_ossl(kind, what);
}
template <typename T>
T* check_ptr(T* p, const char* what, Errc kind = Errc::crypto) {
    if (!p) fail_ossl(kind, what);
    return p;
}

// PEM and DER conversions. Parsing failures are invalid_argument.
std::string to_pem(const X509* cert);
std::string to_pem(const X509_REQ* req);
std::string to_pem(const X509_CRL* crl);
std::string public_key_pem(const EVP_PKEY* key);
X509Ptr x509_from_pem(const std::string& pem);
X509ReqPtr req_from_pem(const std::string& pem);
X509CrlPtr crl_from_pem(const std::string& pem);
EvpPkeyPtr public_key_from_pem(const std::string& pem);
std::vector<unsigned char> to_der(const X509* cert);
X509Ptr x509_from_der(const unsigned char* der, std::size_t len);

// Lower-case hex of bytes.
std::string hex(const unsigned char* data, std::size_t len);
inline std::string hex(const std::vector<unsigned char>& v) { return hex(v.data(), v.size()); }

// SHA-256 of a buffer.
std::vector<unsigned char> sha256(const void* data, std::size_t len);

// Hex serial number of a certificate (upper-case as `openssl x509 -serial` prints it).
std::string serial_hex(const X509* cert);

// Subject common name, or empty if absent.
std::string common_name(const X509_NAME* name);

}  // namespace sfts::ossl
