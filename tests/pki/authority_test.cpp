#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>

#include "pki_helpers.hpp"
#include "sfts/files.hpp"
#include "sfts/pki/authority.hpp"

using namespace sfts;
using test::contains;
using test::kind_of;

namespace {

struct PkiEnv {
    test::TestToken tok;
    test::TempDir dir;
    pki::PkiConfig cfg;
    PkiEnv() {
        cfg.module_path = test::module_path();
        cfg.token = tok.uri;
        cfg.state_dir = dir.file("state");
        cfg.ca = {"sfts test CA", "sfts", 30};
        cfg.server = {"localhost", {"localhost"}, {"127.0.0.1"}, 30};
    }
    std::vector<std::string> state_files() {
        std::vector<std::string> out;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(cfg.state_dir, ec)) out.push_back(e.path().filename());
        return out;
    }
    std::string cli_client_cert_request(const std::string& cn) {
        auto r = test::run("openssl req -new -newkey rsa:3072 -nodes -keyout " + dir.file(cn + ".key") + " -subj /CN=" + cn +
                           " -out " + dir.file(cn + ".csr"));
        BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
        return read_file(dir.file(cn + ".csr"));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(authority)

BOOST_AUTO_TEST_CASE(init_creates_a_pki_the_openssl_cli_accepts) {
    PkiEnv env;
    auto r = pki::init_pki(env.cfg, env.tok.pin, false);
    BOOST_TEST(contains(r.summary, env.cfg.ca_cert_path()));
    for (const auto& f : {env.cfg.ca_cert_path(), env.cfg.server_cert_path(), env.cfg.crl_path(), env.cfg.registry_path()})
        BOOST_TEST(file_exists(f), f);
    struct stat st {};
    ::stat(env.cfg.state_dir.c_str(), &st);
    BOOST_TEST((st.st_mode & 077) == 0u);  // state directory is private
    auto v = test::run("openssl verify -purpose sslserver -verify_ip 127.0.0.1 -CAfile " + env.cfg.ca_cert_path() + " " +
                       env.cfg.server_cert_path());
    BOOST_TEST(v.status == 0, v.output);
    v = test::run("openssl crl -noout -CAfile " + env.cfg.ca_cert_path() + " -in " + env.cfg.crl_path());
    BOOST_TEST(contains(v.output, "verify OK"), v.output);

    // Both keys sit in the token, non-extractable, each beside its certificate.
    auto s = env.tok.token->open(false, &env.tok.pin);
    for (const auto& label : {env.cfg.ca_label, env.cfg.server_label}) {
        auto k = s.find_key(label);
        BOOST_REQUIRE(k.has_value());
        auto a = s.attributes(k->priv);
        BOOST_TEST(!a.extractable);
        BOOST_TEST(a.sensitive);
        auto cert = s.find_certificate(label);
        BOOST_REQUIRE(cert);
        auto pub = s.public_key(*k);
        BOOST_TEST(X509_check_private_key(cert.get(), nullptr) == 0);  // sanity: needs a key
        BOOST_TEST(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), pub.get()) == 1);
    }
    pki::Registry reg(env.cfg.registry_path());
    auto list = reg.list();
    BOOST_TEST(list.size() == 2u);
}

BOOST_AUTO_TEST_CASE(init_refuses_to_overwrite_without_force) {
    PkiEnv env;
    pki::init_pki(env.cfg, env.tok.pin, false);
    std::string before = read_file(env.cfg.ca_cert_path());
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::init_pki(env.cfg, env.tok.pin, false); }, &msg) == Errc::already_exists));
    BOOST_TEST(contains(msg, "--force"), msg);
    BOOST_TEST(read_file(env.cfg.ca_cert_path()) == before);
    // Files alone (a token wiped and re-made) are also protected.
    PkiEnv fresh;
    fresh.cfg.state_dir = env.cfg.state_dir;
    BOOST_TEST((kind_of([&] { pki::init_pki(fresh.cfg, fresh.tok.pin, false); }) == Errc::already_exists));
    BOOST_TEST(!fresh.tok.token->open(false, &fresh.tok.pin).find_key(fresh.cfg.ca_label).has_value());

    auto replaced = pki::init_pki(env.cfg, env.tok.pin, true);
    BOOST_TEST(read_file(env.cfg.ca_cert_path()) != before);
    BOOST_TEST(contains(test::run("ls " + env.cfg.state_dir).output, "pki.db.replaced-"));
    pki::Registry reg(env.cfg.registry_path());
    BOOST_TEST(reg.list().size() == 2u);  // the new registry knows only the new PKI
}

BOOST_AUTO_TEST_CASE(failed_init_leaves_nothing_behind) {
    PkiEnv env;
    env.cfg.server.dns_names.clear();
    env.cfg.server.ip_addresses.clear();
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::init_pki(env.cfg, env.tok.pin, false); }, &msg) == Errc::invalid_argument));
    BOOST_TEST(contains(msg, "DNS name or IP"), msg);
    auto s = env.tok.token->open(false, &env.tok.pin);
    BOOST_TEST(!s.find_key(env.cfg.ca_label).has_value());
    BOOST_TEST(!s.find_key(env.cfg.server_label).has_value());
    BOOST_TEST(!s.find_certificate(env.cfg.ca_label));
    BOOST_TEST(env.state_files().empty());
    // And with the problem fixed, init then works.
    env.cfg.server.ip_addresses = {"127.0.0.1"};
    pki::init_pki(env.cfg, env.tok.pin, false);
}

BOOST_AUTO_TEST_CASE(init_with_wrong_pin_or_missing_token_changes_nothing) {
    PkiEnv env;
    Secret wrong("000000");
    BOOST_TEST((kind_of([&] { pki::init_pki(env.cfg, wrong, false); }) == Errc::auth_failed));
    BOOST_TEST(env.state_files().empty());
    auto cfg = env.cfg;
    cfg.token.token = "missing-token";
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::init_pki(cfg, env.tok.pin, false); }, &msg) == Errc::not_found));
    BOOST_TEST(contains(msg, "missing-token"), msg);
    cfg = env.cfg;
    cfg.module_path = "/nonexistent/module.so";
    BOOST_TEST((kind_of([&] { pki::init_pki(cfg, env.tok.pin, false); }) == Errc::unavailable));
    BOOST_TEST(env.state_files().empty());
}

BOOST_AUTO_TEST_CASE(issue_revoke_and_publish_crl) {
    PkiEnv env;
    pki::init_pki(env.cfg, env.tok.pin, false);
    pki::Authority ca(env.cfg, env.tok.pin);
    auto csr = pki::validate_csr(ossl::req_from_pem(env.cli_client_cert_request("frank")).get());
    auto cert = ca.issue_client(csr);
    std::string serial = ossl::serial_hex(cert.get());
    auto crl0 = ossl::crl_from_pem(read_file(env.cfg.crl_path()));
    pki::verify_certificate(cert.get(), ca.ca_cert(), {pki::Purpose::client, crl0.get(), {}});

    ca.revoke(serial, 1);
    auto crl1 = ossl::crl_from_pem(read_file(env.cfg.crl_path()));
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::verify_certificate(cert.get(), ca.ca_cert(), {pki::Purpose::client, crl1.get(), {}}); },
                        &msg) == Errc::auth_failed));
    BOOST_TEST(contains(msg, "revoked"), msg);
    test::write_text(env.dir.file("frank.pem"), ossl::to_pem(cert.get()));
    auto r = test::run("openssl verify -crl_check -CRLfile " + env.cfg.crl_path() + " -CAfile " + env.cfg.ca_cert_path() +
                       " " + env.dir.file("frank.pem"));
    BOOST_TEST(r.status != 0);
    BOOST_TEST(contains(r.output, "revoked"), r.output);

    auto rec = ca.registry().find(serial);
    BOOST_REQUIRE(rec.has_value());
    BOOST_TEST(rec->revoked_at.has_value());
    BOOST_TEST(rec->subject == "frank");
    BOOST_TEST(rec->kind == "client");
    BOOST_TEST((kind_of([&] { ca.revoke(serial, 1); }) == Errc::already_exists));
    BOOST_TEST((kind_of([&] { ca.revoke("ABCDEF", 0); }) == Errc::not_found));
    // CRL numbers only go up.
    auto n1 = ca.registry().next_crl_number();
    BOOST_TEST(ca.registry().next_crl_number() == n1 + 1);
}

BOOST_AUTO_TEST_CASE(renewal_issues_then_revokes_the_old_serial_as_superseded) {
    PkiEnv env;
    pki::init_pki(env.cfg, env.tok.pin, false);
    pki::Authority ca(env.cfg, env.tok.pin);
    auto first = ca.issue_client(pki::validate_csr(ossl::req_from_pem(env.cli_client_cert_request("grace")).get()));
    std::string old_serial = ossl::serial_hex(first.get());
    // The registry keeps the certificate itself (sfts-admin cert renew re-signs its key).
    auto kept = ca.registry().certificate(old_serial);
    BOOST_REQUIRE(kept);
    BOOST_TEST(X509_cmp(kept.get(), first.get()) == 0);
    BOOST_TEST(!ca.registry().certificate("ABCDEF"));

    auto next_csr = pki::validate_csr(ossl::req_from_pem(env.cli_client_cert_request("grace")).get());
    auto other_csr = pki::validate_csr(ossl::req_from_pem(env.cli_client_cert_request("heidi")).get());
    std::string msg;
    BOOST_TEST((kind_of([&] { ca.renew_client(other_csr, old_serial); }, &msg) == Errc::permission_denied));
    BOOST_TEST(contains(msg, "not a client certificate of 'heidi'"), msg);
    BOOST_TEST((kind_of([&] { ca.renew_client(next_csr, "ABCDEF"); }) == Errc::not_found));
    BOOST_TEST(ca.registry().list().size() == 3u);  // refusals issued nothing

    auto renewed = ca.renew_client(next_csr, old_serial, 12);
    std::string new_serial = ossl::serial_hex(renewed.get());
    BOOST_TEST(new_serial != old_serial);
    auto rec = ca.registry().find(new_serial);
    BOOST_REQUIRE(rec.has_value());
    BOOST_TEST(!rec->revoked_at.has_value());
    BOOST_TEST(rec->not_after - rec->not_before >= 12 * 86400 - 600);  // --days overrides the lifetime
    BOOST_TEST(rec->not_after - rec->not_before <= 12 * 86400 + 600);
    auto old = ca.registry().find(old_serial);
    BOOST_TEST(old->revoked_at.has_value());
    BOOST_TEST(old->reason == 4);
    // The CRL on disk says so (openssl as the judge), and the renewed certificate is good.
    auto r = test::run("openssl crl -noout -text -in " + env.cfg.crl_path());
    BOOST_TEST(contains(r.output, old_serial), r.output);
    BOOST_TEST(contains(r.output, "Superseded"), r.output);
    auto crl = ossl::crl_from_pem(read_file(env.cfg.crl_path()));
    pki::verify_certificate(renewed.get(), ca.ca_cert(), {pki::Purpose::client, crl.get(), {}});
    // Once renewed, a certificate cannot be renewed again.
    BOOST_TEST((kind_of([&] { ca.renew_client(next_csr, old_serial); }, &msg) == Errc::permission_denied));
    BOOST_TEST(contains(msg, "revoked"), msg);
}

BOOST_AUTO_TEST_CASE(a_revoked_key_is_never_certified_again) {
    PkiEnv env;
    pki::init_pki(env.cfg, env.tok.pin, false);
    std::string frank_csr = env.cli_client_cert_request("frank");
    std::string serial;
    {
        pki::Authority ca(env.cfg, env.tok.pin);
        auto cert = ca.issue_client(pki::validate_csr(ossl::req_from_pem(frank_csr).get()));
        serial = ossl::serial_hex(cert.get());
        BOOST_TEST(ca.registry().find(serial)->spki_sha256 == pki::spki_sha256(X509_get0_pubkey(cert.get())));
        ca.revoke(serial, 1);  // keyCompromise
        const auto before = ca.registry().list().size();
        std::string msg;
        BOOST_TEST((kind_of([&] { ca.issue_client(pki::validate_csr(ossl::req_from_pem(frank_csr).get())); }, &msg) ==
                    Errc::permission_denied));
        BOOST_TEST(contains(msg, "certificate " + serial + " was revoked (keyCompromise)"), msg);
        // The same key under another name: refused just the same.
        auto r = test::run("openssl req -new -key " + env.dir.file("frank.key") + " -subj /CN=ivan -out " +
                           env.dir.file("ivan.csr"));
        BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
        BOOST_TEST((kind_of([&] {
                       ca.issue_client(pki::validate_csr(ossl::req_from_pem(read_file(env.dir.file("ivan.csr"))).get()));
                   }) == Errc::permission_denied));
        BOOST_TEST(ca.registry().list().size() == before);  // nothing was issued

        // Superseded says nothing against a key: the operator's renewal re-signs it, twice.
        auto grace = ca.issue_client(pki::validate_csr(ossl::req_from_pem(env.cli_client_cert_request("grace")).get()));
        pki::ValidatedCsr same{"grace", ossl::EvpPkeyPtr(X509_get_pubkey(grace.get()))};
        auto second = ca.renew_client(same, ossl::serial_hex(grace.get()));
        pki::ValidatedCsr again{"grace", ossl::EvpPkeyPtr(X509_get_pubkey(grace.get()))};
        BOOST_TEST(ca.renew_client(again, ossl::serial_hex(second.get())));

        // Pending until confirmed; an enrollment never confirmed does not mark its key.
        std::string heidi_csr = env.cli_client_cert_request("heidi");
        auto pending = ca.issue_client(pki::validate_csr(ossl::req_from_pem(heidi_csr).get()), std::time(nullptr) + 60);
        std::string ps = ossl::serial_hex(pending.get());
        BOOST_TEST(ca.registry().find(ps)->pending());
        BOOST_TEST(ca.registry().expired_pending(std::time(nullptr)).empty());
        BOOST_TEST(ca.registry().expired_pending(0).size() == 1u);
        ca.revoke(ps, pki::kReasonUnconfirmed);
        BOOST_TEST(!ca.registry().find(ps)->pending());
        BOOST_TEST(ca.registry().find(ps)->never_confirmed());
        BOOST_TEST(!ca.registry().confirm(ps));  // revoked: too late
        auto retry = ca.issue_client(pki::validate_csr(ossl::req_from_pem(heidi_csr).get()), std::time(nullptr) + 60);
        BOOST_TEST(ca.registry().confirm(ossl::serial_hex(retry.get())));
        BOOST_TEST(!ca.registry().find(ossl::serial_hex(retry.get()))->pending());
    }
    // A registry from before it kept key hashes learns them from the certificates it stored.
    auto r = test::run("sqlite3 " + env.cfg.registry_path() +
                       " 'DROP INDEX certificates_spki; ALTER TABLE certificates DROP COLUMN spki_sha256;"
                       " ALTER TABLE certificates DROP COLUMN pending_until'");
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
    pki::Authority ca(env.cfg, env.tok.pin);
    BOOST_TEST(!ca.registry().find(serial)->spki_sha256.empty());
    std::string msg;
    BOOST_TEST((kind_of([&] { ca.issue_client(pki::validate_csr(ossl::req_from_pem(frank_csr).get())); }, &msg) ==
                Errc::permission_denied));
    BOOST_TEST(contains(msg, "keyCompromise"), msg);
}

BOOST_AUTO_TEST_CASE(authority_refuses_a_certificate_that_is_not_its_key) {
    PkiEnv env, other;
    pki::init_pki(env.cfg, env.tok.pin, false);
    pki::init_pki(other.cfg, other.tok.pin, false);
    write_file_atomic(env.cfg.ca_cert_path(), read_file(other.cfg.ca_cert_path()));
    std::string msg;
    BOOST_TEST((kind_of([&] { pki::Authority(env.cfg, env.tok.pin); }, &msg) == Errc::integrity));
    BOOST_TEST(contains(msg, "does not match"), msg);
}

BOOST_AUTO_TEST_SUITE_END()
