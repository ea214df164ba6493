#define BOOST_TEST_MODULE hsm
#include <boost/test/unit_test.hpp>

#include <openssl/rsa.h>

#include <atomic>
#include <thread>

#include "sfts/error.hpp"
#include "sfts/hsm/ckr.hpp"
#include "sfts/hsm/key_provider.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/hsm/uri.hpp"
#include "sfts/pki/pss.hpp"
#include "softhsm_fixture.hpp"

using namespace sfts;

namespace {


std::vector<unsigned char> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

BOOST_AUTO_TEST_CASE(uri_parsing_follows_rfc7512) {
    auto u = hsm::ObjectUri::parse("pkcs11:token=My%20Token;object=sfts-ca;id=%01%02;type=private");
    BOOST_TEST(u.token == "My Token");
    BOOST_TEST(u.object == "sfts-ca");
    BOOST_TEST(u.id == std::vector<std::uint8_t>({1, 2}));
    auto back = hsm::ObjectUri::parse(u.to_string("private"));
    BOOST_TEST(back.token == u.token);
    BOOST_TEST(back.id == u.id);
    BOOST_TEST(hsm::ObjectUri::parse("pkcs11:serial=abc;model=SoftHSM%20v2").serial == "abc");
    BOOST_TEST((sfts::test::kind_of([] { hsm::ObjectUri::parse("file:///etc/passwd"); }) == Errc::invalid_argument));
    BOOST_TEST((sfts::test::kind_of([] { hsm::ObjectUri::parse("pkcs11:token=x;pin-value=1234"); }) == Errc::invalid_argument));
    BOOST_TEST((sfts::test::kind_of([] { hsm::ObjectUri::parse("pkcs11:token=x;bogus=1"); }) == Errc::invalid_argument));
    BOOST_TEST((sfts::test::kind_of([] { hsm::ObjectUri::parse("pkcs11:token=%zz"); }) == Errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(ckr_names) {
    BOOST_TEST(hsm::ckr_name(CKR_PIN_INCORRECT) == "CKR_PIN_INCORRECT");
    BOOST_TEST(hsm::ckr_name(CKR_OK) == "CKR_OK");
    BOOST_TEST(hsm::ckr_name(0x80000001UL) == "CKR_0x80000001");
}

BOOST_AUTO_TEST_CASE(token_init_refuses_duplicate_label) {
    test::TestToken t;
    std::string msg;
    BOOST_TEST((sfts::test::kind_of([&] { t.module->init_token(t.label, t.so_pin, t.pin); }, &msg) == Errc::already_exists));
    BOOST_TEST(msg.find(t.label) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(generated_keys_are_not_extractable) {
    test::TestToken t;
    auto s = t.token->open(true, &t.pin);
    auto key = s.generate_rsa("k1");
    BOOST_TEST(key.id.size() == 16u);
    auto a = s.attributes(key.priv);
    BOOST_TEST(a.token);
    BOOST_TEST(a.is_private);
    BOOST_TEST(a.sensitive);
    BOOST_TEST(!a.extractable);
    BOOST_TEST(a.always_sensitive);
    BOOST_TEST(a.never_extractable);
    BOOST_TEST(a.modulus_bits == 3072u);
    // The module itself refuses to reveal the secret parts.
    for (CK_ATTRIBUTE_TYPE what : {CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_VALUE}) {
        CK_RV rv = s.try_read_private_value(key.priv, what);
        BOOST_TEST(rv != CKR_OK, "attribute " << what << " was readable");
    }
    BOOST_TEST(s.try_read_private_value(key.priv, CKA_PRIVATE_EXPONENT) == CKR_ATTRIBUTE_SENSITIVE);
    // Found again, by label and by id; a second key with the same label is refused.
    auto found = s.find_key("k1");
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == key.id);
    BOOST_TEST(s.find_key("", key.id).has_value());
    BOOST_TEST(!s.find_key("nope").has_value());
    BOOST_TEST((sfts::test::kind_of([&] { s.generate_rsa("k1"); }) == Errc::already_exists));
}

BOOST_AUTO_TEST_CASE(certificate_stored_next_to_key) {
    test::TestToken t;
    auto s = t.token->open(true, &t.pin);
    auto key = s.generate_rsa("k1");
    auto pub = s.public_key(key);
    BOOST_TEST(EVP_PKEY_get_bits(pub.get()) == 3072);
    // A self-signed certificate over the token key, signed in the token.
    auto priv = hsm::KeyProvider::for_module(test::module_path()).private_key(t.uri.with_object("k1"), t.pin);
    ossl::X509Ptr x(X509_new());
    X509_set_version(x.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("k1"), -1, -1, 0);
    X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
    X509_set_pubkey(x.get(), pub.get());
    BOOST_REQUIRE(X509_sign(x.get(), priv.get(), EVP_sha256()) > 0);
    s.store_certificate(x.get(), "k1", key.id);
    auto back = s.find_certificate("k1");
    BOOST_REQUIRE(back);
    BOOST_TEST(X509_cmp(back.get(), x.get()) == 0);
    BOOST_TEST(X509_verify(back.get(), pub.get()) == 1);
    BOOST_TEST((sfts::test::kind_of([&] { s.store_certificate(x.get(), "k1", key.id); }) == Errc::already_exists));
    s.store_certificate(x.get(), "k1", key.id, true);  // explicit replace works
    BOOST_TEST(s.find_certificate("k1") != nullptr);
}

BOOST_AUTO_TEST_CASE(engine_key_signs_rsa_pss_in_token) {
    test::TestToken t;
    auto s = t.token->open(true, &t.pin);
    auto key = s.generate_rsa("signer");
    auto pub = s.public_key(key);
    auto priv = hsm::KeyProvider::for_module(test::module_path()).private_key(t.uri.with_object("signer"), t.pin);
    auto msg = bytes("the quick brown fox");
    auto sig = pki::pss_sign(priv.get(), msg);
    BOOST_TEST(sig.size() == 384u);
    BOOST_TEST(pki::pss_verify(pub.get(), msg, sig));
    msg[0] ^= 1;
    BOOST_TEST(!pki::pss_verify(pub.get(), msg, sig));
}

// Certificate renewal (sfts renew) makes a second key while the first is loaded, signs with it,
// then moves the first one's label over to it.
BOOST_AUTO_TEST_CASE(key_made_after_engine_load_is_usable_and_relabelled) {
    test::TestToken t;
    auto& provider = hsm::KeyProvider::for_module(test::module_path());
    auto s = t.token->open(true, &t.pin);
    s.generate_rsa("current");
    auto first = provider.private_key(t.uri.with_object("current"), t.pin);
    auto fresh = s.generate_rsa("current.renew");
    auto second = provider.private_key(t.uri.with_object("current.renew", fresh.id), t.pin);
    auto fresh_pub = s.public_key(fresh);
    auto msg = bytes("renewal");
    BOOST_TEST(pki::pss_verify(fresh_pub.get(), msg, pki::pss_sign(second.get(), msg)));
    BOOST_TEST(EVP_PKEY_eq(fresh_pub.get(), first.get()) != 1);

    BOOST_TEST((sfts::test::kind_of([&] { s.relabel("current.renew", "current"); }) == Errc::already_exists));
    s.destroy_objects("current");
    BOOST_TEST(s.relabel("current.renew", "current") == 2u);  // private and public half
    auto moved = s.find_key("current");
    BOOST_REQUIRE(moved.has_value());
    BOOST_TEST(moved->id == fresh.id);
    BOOST_TEST(!s.find_key("current.renew").has_value());
    BOOST_TEST(EVP_PKEY_eq(s.public_key(*moved).get(), fresh_pub.get()) == 1);
}

BOOST_AUTO_TEST_CASE(software_keys_still_work_after_engine_load) {
    // DEVELOPERS.md: a globally configured engine broke software-key signing in the same
    // process. Ours is loaded in code and never made a default.
    test::TestToken t;
    t.token->open(true, &t.pin).generate_rsa("k");
    auto tk = hsm::KeyProvider::for_module(test::module_path()).private_key(t.uri.with_object("k"), t.pin);
    ossl::EvpPkeyPtr soft(EVP_RSA_gen(2048));
    BOOST_REQUIRE(soft);
    auto msg = bytes("software");
    auto sig = pki::pss_sign(soft.get(), msg);
    BOOST_TEST(pki::pss_verify(soft.get(), msg, sig));
    ossl::X509Ptr x(X509_new());
    X509_set_pubkey(x.get(), soft.get());
    BOOST_TEST(X509_sign(x.get(), soft.get(), EVP_sha256()) > 0);
}

BOOST_AUTO_TEST_CASE(wrong_pin_is_auth_failed_and_never_echoed) {
    test::TestToken t;
    t.token->open(true, &t.pin).generate_rsa("k");
    Secret wrong("wrong-pin-4711");
    std::string msg;
    auto& provider = hsm::KeyProvider::for_module(test::module_path());
    BOOST_TEST((sfts::test::kind_of([&] { provider.private_key(t.uri.with_object("k"), wrong); }, &msg) == Errc::auth_failed));
    BOOST_TEST(msg.find("CKR_PIN_INCORRECT") != std::string::npos, msg);
    BOOST_TEST(msg.find(t.label) != std::string::npos, msg);
    BOOST_TEST(msg.find("4711") == std::string::npos, msg);
    BOOST_TEST((sfts::test::kind_of([&] { t.token->open(false, &wrong); }) == Errc::auth_failed));
}

BOOST_AUTO_TEST_CASE(missing_token_key_and_module_are_clear_errors) {
    test::TestToken t;
    std::string msg;
    hsm::ObjectUri ghost;
    ghost.token = "no-such-token";
    BOOST_TEST((sfts::test::kind_of([&] { hsm::Token(t.module, ghost); }, &msg) == Errc::not_found));
    BOOST_TEST(msg.find("no-such-token") != std::string::npos, msg);
    auto& provider = hsm::KeyProvider::for_module(test::module_path());
    BOOST_TEST((sfts::test::kind_of([&] { provider.private_key(t.uri.with_object("absent"), t.pin); }, &msg) == Errc::not_found));
    BOOST_TEST(msg.find("absent") != std::string::npos, msg);
    BOOST_TEST((sfts::test::kind_of([&] { hsm::Module::load("/nonexistent/libpkcs11.so"); }, &msg) == Errc::unavailable));
    BOOST_TEST(msg.find("/nonexistent/libpkcs11.so") != std::string::npos, msg);
    // Nothing was created by the failed attempts.
    auto s = t.token->open(false, &t.pin);
    BOOST_TEST(!s.find_key("absent").has_value());
}

BOOST_AUTO_TEST_CASE(concurrent_pss_signatures_with_one_token_key) {
    test::TestToken t;
    auto s = t.token->open(true, &t.pin);
    auto key = s.generate_rsa("busy");
    auto pub = s.public_key(key);
    // Loaded once, before the threads start (libp11's enumeration and login are not thread-safe).
    auto priv = hsm::KeyProvider::for_module(test::module_path()).private_key(t.uri.with_object("busy"), t.pin);
    constexpr int kThreads = 8, kPerThread = 200;
    std::atomic<int> ok{0}, bad{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            for (int j = 0; j < kPerThread; ++j) {
                auto msg = bytes("thread " + std::to_string(i) + " message " + std::to_string(j));
                try {
                    auto sig = pki::pss_sign(priv.get(), msg);
                    (pki::pss_verify(pub.get(), msg, sig) ? ok : bad)++;
                } catch (const std::exception&) {
                    bad++;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(bad.load() == 0);
    BOOST_TEST(ok.load() == kThreads * kPerThread);
}

namespace {

// A key pair made with a raw template of the test's choosing (what another program, or a token
// with other defaults, could leave in the token).
hsm::KeyHandle raw_keypair(hsm::Session& s, const std::string& label, CK_BBOOL sensitive, CK_BBOOL extractable) {
    CK_BBOOL yes = CK_TRUE;
    CK_ULONG bits = 2048;
    CK_BYTE id[] = {0x42, 0x17};
    auto* lbl = const_cast<char*>(label.data());
    std::vector<CK_ATTRIBUTE> pub = {{CKA_TOKEN, &yes, sizeof yes}, {CKA_VERIFY, &yes, sizeof yes},
                                     {CKA_MODULUS_BITS, &bits, sizeof bits}, {CKA_LABEL, lbl, label.size()},
                                     {CKA_ID, id, sizeof id}};
    std::vector<CK_ATTRIBUTE> priv = {{CKA_TOKEN, &yes, sizeof yes},          {CKA_PRIVATE, &yes, sizeof yes},
                                      {CKA_SENSITIVE, &sensitive, sizeof sensitive},
                                      {CKA_EXTRACTABLE, &extractable, sizeof extractable},
                                      {CKA_SIGN, &yes, sizeof yes},           {CKA_LABEL, lbl, label.size()},
                                      {CKA_ID, id, sizeof id}};
    CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
    hsm::KeyHandle k;
    hsm::check_rv(s.token().module().fn()->C_GenerateKeyPair(s.handle(), &mech, pub.data(), pub.size(), priv.data(),
                                                             priv.size(), &k.pub, &k.priv),
                  "C_GenerateKeyPair", "test");
    return k;
}

}  // namespace

// Issue 14: every private key sfts uses is one the token reports sensitive and never extractable.
BOOST_AUTO_TEST_CASE(extractable_or_non_sensitive_keys_are_refused) {
    test::TestToken t;
    auto s = t.token->open(true, &t.pin);
    auto k1 = raw_keypair(s, "extractable", CK_TRUE, CK_TRUE);
    auto k2 = raw_keypair(s, "plain", CK_FALSE, CK_FALSE);
    std::string msg;
    BOOST_TEST((sfts::test::kind_of([&] { s.require_protected(k1.priv, "extractable"); }, &msg) == Errc::token));
    BOOST_TEST(msg.find("CKA_EXTRACTABLE is true") != std::string::npos, msg);
    BOOST_TEST((sfts::test::kind_of([&] { s.require_protected(k2.priv, "plain"); }, &msg) == Errc::token));
    BOOST_TEST(msg.find("CKA_SENSITIVE is false") != std::string::npos, msg);
    auto& provider = hsm::KeyProvider::for_module(test::module_path());
    BOOST_TEST((sfts::test::kind_of([&] { provider.private_key(t.uri.with_object("extractable"), t.pin); }, &msg) ==
                Errc::token));
    BOOST_TEST(msg.find("never leave the token") != std::string::npos, msg);
    BOOST_TEST((sfts::test::kind_of([&] { provider.private_key(t.uri.with_object("plain"), t.pin); }) == Errc::token));
    // A key generated by sfts passes, with the full template on SoftHSM2 (nothing to report).
    auto good = s.generate_rsa("good", 2048);
    BOOST_TEST(good.key_template == "full");
    BOOST_TEST((sfts::test::kind_of([&] { s.require_protected(good.priv, "good"); }) == Errc::ok));
    BOOST_TEST(provider.private_key(t.uri.with_object("good"), t.pin) != nullptr);
}
