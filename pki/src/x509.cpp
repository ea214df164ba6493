#include "sfts/pki/x509.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sfts/error.hpp"

namespace sfts::pki {

namespace {

using ossl::check;
using ossl::check_ptr;

constexpr long kBackdateSeconds = 60;  // tolerate small clock skew between server and clients

void add_ext(X509* subject, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
    ossl::X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext) ossl::fail_ossl(Errc::invalid_argument, std::string("bad extension value '") + value + "'");
    check(X509_add_ext(subject, ext.get(), -1), "X509_add_ext");
}

void set_validity(X509* x, int days) {
    if (days < 1 || days > 36500) fail(Errc::invalid_argument, "certificate lifetime must be 1 to 36500 days");
    check_ptr(X509_gmtime_adj(X509_getm_notBefore(x), -kBackdateSeconds), "X509_gmtime_adj");
    check_ptr(X509_time_adj_ex(X509_getm_notAfter(x), days, 0, nullptr), "X509_time_adj_ex");
}

ossl::X509Ptr new_cert(EVP_PKEY* subject_key, const X509_NAME* subject, const X509_NAME* issuer, int days) {
    ossl::X509Ptr x(check_ptr(X509_new(), "X509_new"));
    check(X509_set_version(x.get(), X509_VERSION_3), "X509_set_version");
    auto serial = random_serial();
    check(X509_set_serialNumber(x.get(), serial.get()), "X509_set_serialNumber");
    check(X509_set_subject_name(x.get(), subject), "X509_set_subject_name");
    check(X509_set_issuer_name(x.get(), issuer), "X509_set_issuer_name");
    set_validity(x.get(), days);
    check(X509_set_pubkey(x.get(), subject_key), "X509_set_pubkey");
    return x;
}

void sign(X509* x, EVP_PKEY* key) {
    if (X509_sign(x, key, EVP_sha256()) <= 0) ossl::fail_ossl(Errc::token, "signing the certificate");
}

ossl::X509NamePtr name_cn(const std::string& cn, const std::string& org = {}) {
    ossl::X509NamePtr n(check_ptr(X509_NAME_new(), "X509_NAME_new"));
    auto add = [&](const char* field, const std::string& v) {
        check(X509_NAME_add_entry_by_txt(n.get(), field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v.c_str()),
                                         -1, -1, 0),
              "X509_NAME_add_entry_by_txt", Errc::invalid_argument);
    };
    if (!org.empty()) add("O", org);
    add("CN", cn);
    return n;
}

}  // namespace

bool valid_username(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum) continue;
        if (i > 0 && (c == '.' || c == '_' || c == '-')) continue;
        return false;
    }
    return true;
}

ossl::Asn1IntegerPtr random_serial() {
    unsigned char bytes[16];
    do {
        check(RAND_bytes(bytes, sizeof bytes), "RAND_bytes");
    } while (bytes[0] == 0);  // keep all 16 octets significant: a fixed-width, never-zero serial
    ossl::BignumPtr bn(check_ptr(BN_bin2bn(bytes, sizeof bytes, nullptr), "BN_bin2bn"));
    return ossl::Asn1IntegerPtr(check_ptr(BN_to_ASN1_INTEGER(bn.get(), nullptr), "BN_to_ASN1_INTEGER"));
}

ossl::X509Ptr make_ca_certificate(EVP_PKEY* ca_key, const CaOptions& opts) {
    if (opts.common_name.empty()) fail(Errc::invalid_argument, "CA common name must not be empty");
    auto name = name_cn(opts.common_name, opts.organization);
    auto x = new_cert(ca_key, name.get(), name.get(), opts.days);
    add_ext(x.get(), x.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x.get(), x.get(), NID_subject_key_identifier, "hash");
    add_ext(x.get(), x.get(), NID_authority_key_identifier, "keyid:always");
    sign(x.get(), ca_key);
    return x;
}

ossl::X509Ptr issue_server_certificate(X509* ca_cert, EVP_PKEY* ca_key, EVP_PKEY* server_public_key,
                                       const ServerCertOptions& opts) {
    if (opts.dns_names.empty() && opts.ip_addresses.empty())
        fail(Errc::invalid_argument, "a server certificate needs at least one DNS name or IP address");
    auto name = name_cn(opts.common_name);
    auto x = new_cert(server_public_key, name.get(), X509_get_subject_name(ca_cert), opts.days);
    std::string san;
    for (const auto& d : opts.dns_names) {
        if (d.empty() || d.find_first_of(",:= ") != std::string::npos) fail(Errc::invalid_argument, "bad DNS name '" + d + "'");
        if (!san.empty()) san += ',';
        san.append("DNS:").append(d);
    }
    for (const auto& ip : opts.ip_addresses) {
        if (ip.empty() || ip.find_first_of(",= ") != std::string::npos) fail(Errc::invalid_argument, "bad IP address '" + ip + "'");
        if (!san.empty()) san += ',';
        san.append("IP:").append(ip);
    }
    add_ext(x.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), ca_cert, NID_key_usage, "critical,digitalSignature");
    add_ext(x.get(), ca_cert, NID_ext_key_usage, "serverAuth");
    add_ext(x.get(), ca_cert, NID_subject_alt_name, san.c_str());
    add_ext(x.get(), ca_cert, NID_subject_key_identifier, "hash");
    add_ext(x.get(), ca_cert, NID_authority_key_identifier, "keyid:always");
    sign(x.get(), ca_key);
    return x;
}

ossl::X509ReqPtr make_csr(EVP_PKEY* key, const std::string& username) {
    if (!valid_username(username))
        fail(Errc::invalid_argument, "username must be 1-64 of a-z 0-9 . _ - starting with a letter or digit");
    ossl::X509ReqPtr req(check_ptr(X509_REQ_new(), "X509_REQ_new"));
    check(X509_REQ_set_version(req.get(), X509_REQ_VERSION_1), "X509_REQ_set_version");
    auto name = name_cn(username);
    check(X509_REQ_set_subject_name(req.get(), name.get()), "X509_REQ_set_subject_name");
    check(X509_REQ_set_pubkey(req.get(), key), "X509_REQ_set_pubkey");
    if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) ossl::fail_ossl(Errc::token, "signing the CSR");
    return req;
}

ValidatedCsr validate_csr_der(const unsigned char* der, std::size_t len, const CsrPolicy& policy) {
    if (len > policy.max_der_bytes)
        fail(Errc::limit_exceeded, "CSR is " + std::to_string(len) + " bytes; at most " +
                                       std::to_string(policy.max_der_bytes) + " allowed");
    const unsigned char* p = der;
    ossl::X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(len)));
    if (!req || p != der + len) {
        ERR_clear_error();
        fail(Errc::invalid_argument, "CSR is not a well-formed DER certificate request");
    }
    return validate_csr(req.get(), policy);
}

ValidatedCsr validate_csr(const X509_REQ* creq, const CsrPolicy& policy) {
    auto* req = const_cast<X509_REQ*>(creq);
    int der_len = i2d_X509_REQ(req, nullptr);
    if (der_len <= 0) {
        ERR_clear_error();
        fail(Errc::invalid_argument, "CSR cannot be encoded");
    }
    if (static_cast<std::size_t>(der_len) > policy.max_der_bytes) fail(Errc::limit_exceeded, "CSR too large");
    if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) fail(Errc::invalid_argument, "CSR version must be 1");

    ossl::EvpPkeyPtr pub(X509_REQ_get_pubkey(req));
    if (!pub) {
        ERR_clear_error();
        fail(Errc::invalid_argument, "CSR public key cannot be parsed");
    }
    if (EVP_PKEY_get_base_id(pub.get()) != EVP_PKEY_RSA) fail(Errc::invalid_argument, "CSR key must be RSA");
    int bits = EVP_PKEY_get_bits(pub.get());
    if (bits < policy.min_rsa_bits)
        fail(Errc::invalid_argument, "CSR key has " + std::to_string(bits) + " bits; at least " +
                                         std::to_string(policy.min_rsa_bits) + " required");
    if (bits > policy.max_rsa_bits)
        fail(Errc::invalid_argument, "CSR key has " + std::to_string(bits) + " bits; at most " +
                                         std::to_string(policy.max_rsa_bits) + " allowed");
    if (X509_REQ_verify(req, pub.get()) != 1) {
        ERR_clear_error();
        fail(Errc::invalid_argument, "CSR self-signature does not verify");
    }

    // Nothing but the subject and the key is ever copied, but a CSR that asks for more is a
    // smuggling attempt or a misconfigured client: refuse it outright.
    if (X509_REQ_get_attr_count(req) != 0)
        fail(Errc::invalid_argument, "CSR carries attributes (extension requests, challenge password); none are allowed");
    const X509_NAME* subject = X509_REQ_get_subject_name(req);
    if (X509_NAME_entry_count(subject) != 1)
        fail(Errc::invalid_argument, "CSR subject must be exactly one CN");
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, 0);
    if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_commonName)
        fail(Errc::invalid_argument, "CSR subject must be exactly one CN");
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(e);
    int type = ASN1_STRING_type(cn);
    if (type != V_ASN1_UTF8STRING && type != V_ASN1_PRINTABLESTRING)
        fail(Errc::invalid_argument, "CSR common name must be a UTF8String or PrintableString");
    std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                     static_cast<std::size_t>(ASN1_STRING_length(cn)));
    if (!valid_username(name))
        fail(Errc::invalid_argument, "CSR common name is not a valid username (1-64 of a-z 0-9 . _ -)");
    return {name, std::move(pub)};
}

ossl::X509Ptr issue_client_certificate(X509* ca_cert, EVP_PKEY* ca_key, const ValidatedCsr& csr,
                                       const ClientCertOptions& opts) {
    SFTS_INVARIANT(valid_username(csr.username) && csr.public_key);
    auto name = name_cn(csr.username);
    auto x = new_cert(csr.public_key.get(), name.get(), X509_get_subject_name(ca_cert), opts.days);
    add_ext(x.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), ca_cert, NID_key_usage, "critical,digitalSignature");
    add_ext(x.get(), ca_cert, NID_ext_key_usage, "clientAuth");
    add_ext(x.get(), ca_cert, NID_subject_key_identifier, "hash");
    add_ext(x.get(), ca_cert, NID_authority_key_identifier, "keyid:always");
    sign(x.get(), ca_key);
    return x;
}

ossl::X509CrlPtr make_crl(X509* ca_cert, EVP_PKEY* ca_key, const std::vector<RevokedEntry>& revoked,
                          std::uint64_t crl_number, int next_update_days) {
    ossl::X509CrlPtr crl(check_ptr(X509_CRL_new(), "X509_CRL_new"));
    check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "X509_CRL_set_version");
    check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert)), "X509_CRL_set_issuer_name");
    ossl::Asn1TimePtr now(check_ptr(X509_gmtime_adj(nullptr, 0), "X509_gmtime_adj"));
    ossl::Asn1TimePtr next(check_ptr(X509_time_adj_ex(nullptr, next_update_days, 0, nullptr), "X509_time_adj_ex"));
    check(X509_CRL_set1_lastUpdate(crl.get(), now.get()), "X509_CRL_set1_lastUpdate");
    check(X509_CRL_set1_nextUpdate(crl.get(), next.get()), "X509_CRL_set1_nextUpdate");

    for (const auto& r : revoked) {
        ossl::X509RevokedPtr rev(check_ptr(X509_REVOKED_new(), "X509_REVOKED_new"));
        BIGNUM* raw = nullptr;
        if (r.serial_hex.empty() || r.serial_hex.size() > 40 || BN_hex2bn(&raw, r.serial_hex.c_str()) !=
                                                                     static_cast<int>(r.serial_hex.size()))
            fail(Errc::invalid_argument, "bad serial number '" + r.serial_hex + "'");
        ossl::BignumPtr bn(raw);
        ossl::Asn1IntegerPtr serial(check_ptr(BN_to_ASN1_INTEGER(bn.get(), nullptr), "BN_to_ASN1_INTEGER"));
        check(X509_REVOKED_set_serialNumber(rev.get(), serial.get()), "X509_REVOKED_set_serialNumber");
        ossl::Asn1TimePtr when(check_ptr(ASN1_TIME_set(nullptr, r.revoked_at), "ASN1_TIME_set"));
        check(X509_REVOKED_set_revocationDate(rev.get(), when.get()), "X509_REVOKED_set_revocationDate");
        if (r.reason != 0) {
            std::unique_ptr<ASN1_ENUMERATED, ossl::Deleter<ASN1_ENUMERATED_free>> code(ASN1_ENUMERATED_new());
            check(ASN1_ENUMERATED_set(code.get(), r.reason), "ASN1_ENUMERATED_set");
            check(X509_REVOKED_add1_ext_i2d(rev.get(), NID_crl_reason, code.get(), 0, 0), "add CRL reason");
        }
        check(X509_CRL_add0_revoked(crl.get(), rev.get()), "X509_CRL_add0_revoked");
        rev.release();  // now owned by the CRL
    }
    ossl::BignumPtr num(check_ptr(BN_new(), "BN_new"));
    check(BN_set_word(num.get(), crl_number), "BN_set_word");
    ossl::Asn1IntegerPtr num_asn1(check_ptr(BN_to_ASN1_INTEGER(num.get(), nullptr), "BN_to_ASN1_INTEGER"));
    check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, num_asn1.get(), 0, 0), "add CRL number");
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, ca_cert, nullptr, nullptr, crl.get(), 0);
    ossl::X509ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!aki) ossl::fail_ossl(Errc::crypto, "building the CRL's AKI");
    check(X509_CRL_add_ext(crl.get(), aki.get(), -1), "X509_CRL_add_ext");
    check(X509_CRL_sort(crl.get()), "X509_CRL_sort");
    if (X509_CRL_sign(crl.get(), ca_key, EVP_sha256()) <= 0) ossl::fail_ossl(Errc::token, "signing the CRL");
    return crl;
}

void verify_certificate(X509* leaf, X509* ca_cert, const VerifyOptions& opts) {
    ossl::X509StorePtr store(check_ptr(X509_STORE_new(), "X509_STORE_new"));
    check(X509_STORE_add_cert(store.get(), ca_cert), "X509_STORE_add_cert");
    unsigned long flags = X509_V_FLAG_X509_STRICT;
    if (opts.crl) {
        check(X509_STORE_add_crl(store.get(), const_cast<X509_CRL*>(opts.crl)), "X509_STORE_add_crl");
        flags |= X509_V_FLAG_CRL_CHECK;
    }
    ossl::X509StoreCtxPtr ctx(check_ptr(X509_STORE_CTX_new(), "X509_STORE_CTX_new"));
    check(X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr), "X509_STORE_CTX_init");
    X509_STORE_CTX_set_flags(ctx.get(), flags);
    bool client = opts.purpose == Purpose::client;
    check(X509_STORE_CTX_set_purpose(ctx.get(), client ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER),
          "X509_STORE_CTX_set_purpose");
    if (opts.at) X509_STORE_CTX_set_time(ctx.get(), 0, *opts.at);
    if (X509_verify_cert(ctx.get()) != 1) {
        int err = X509_STORE_CTX_get_error(ctx.get());
        ERR_clear_error();
        fail(Errc::auth_failed, std::string("certificate rejected: ") + X509_verify_cert_error_string(err));
    }
    // OpenSSL's purpose check lets a CA certificate act as a leaf and accepts a leaf with no EKU at
    // all; sfts issues neither, so it accepts neither.
    if (X509_check_ca(leaf) != 0) fail(Errc::auth_failed, "certificate rejected: a CA certificate cannot be a leaf");
    uint32_t xku = X509_get_extended_key_usage(leaf);
    bool has_eku = (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) != 0;
    if (!has_eku || !(xku & (client ? XKU_SSL_CLIENT : XKU_SSL_SERVER)))
        fail(Errc::auth_failed, std::string("certificate rejected: extended key usage lacks ") +
                                    (client ? "clientAuth" : "serverAuth"));
}

std::vector<unsigned char> fingerprint(const X509* cert) {
    auto der = ossl::to_der(cert);
    return ossl::sha256(der.data(), der.size());
}

std::time_t to_time_t(const ASN1_TIME* t, Errc kind) {
    struct tm tm {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) fail(kind, "certificate has an unreadable time");
    return timegm(&tm);
}

std::string utc_string(std::time_t t) {
    char buf[32];
    struct tm tm {};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

}  // namespace sfts::pki
