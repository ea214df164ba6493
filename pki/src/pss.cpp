#include "sfts/pki/pss.hpp"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::pki {

namespace {

void set_pss(EVP_PKEY_CTX* pctx) {
    ossl::check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 ? 1 : 0, "set PSS padding");
    ossl::check(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 ? 1 : 0, "set MGF1-SHA256");
    ossl::check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kPssSaltLength) > 0 ? 1 : 0, "set PSS salt length");
}

void require_rsa(EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) fail(Errc::invalid_argument, "RSA-PSS needs an RSA key");
}

}  // namespace

std::vector<unsigned char> pss_sign(EVP_PKEY* key, std::span<const unsigned char> message) {
    require_rsa(key);
    ossl::EvpMdCtxPtr ctx(ossl::check_ptr(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    ossl::check(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key), "EVP_DigestSignInit");
    set_pss(pctx);
    std::size_t len = 0;
    ossl::check(EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()), "EVP_DigestSign");
    std::vector<unsigned char> sig(len);
    ossl::check(EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()), "RSA-PSS signing",
                Errc::token);
    sig.resize(len);
    return sig;
}

bool pss_verify(EVP_PKEY* public_key, std::span<const unsigned char> message,
                std::span<const unsigned char> signature) {
    require_rsa(public_key);
    ossl::EvpMdCtxPtr ctx(ossl::check_ptr(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
    EVP_PKEY_CTX* pctx = nullptr;
    ossl::check(EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, public_key), "EVP_DigestVerifyInit");
    set_pss(pctx);
    int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size());
    ERR_clear_error();  // a bad signature leaves errors in the queue; it is an answer, not a failure
    return rc == 1;
}

}  // namespace sfts::pki
