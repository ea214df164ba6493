// The server's PKI as a whole: CA and TLS keys in the server token, certificates, CRL and the
// issuance registry in the state directory.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/hsm/uri.hpp"
#include "sfts/pki/registry.hpp"
#include "sfts/pki/x509.hpp"
#include "sfts/secret.hpp"

namespace sfts::pki {

struct PkiConfig {
    std::string module_path;         // PKCS#11 module
    hsm::ObjectUri token;            // which token (token attributes of the URI)
    std::string ca_label = "sfts-ca";
    std::string server_label = "sfts-server";
    std::string state_dir;           // ca.crt, server.crt, crl.pem, pki.db
    CaOptions ca;
    ServerCertOptions server;
    ClientCertOptions client;
    int crl_days = 7;
    int crl_check_s = 300;           // sftsd: how often it checks whether the CRL is due
    int warn_days = 60;              // warn when the server or CA certificate expires within this

    // The CRL is due for re-signing once less than half of crl_days is left before nextUpdate.
    std::time_t crl_refresh_margin_s() const { return static_cast<std::time_t>(crl_days) * 86400 / 2; }

    std::string ca_cert_path() const { return state_dir + "/ca.crt"; }
    std::string server_cert_path() const { return state_dir + "/server.crt"; }
    std::string crl_path() const { return state_dir + "/crl.pem"; }
    std::string registry_path() const { return state_dir + "/pki.db"; }
    // Serialises building-and-writing the CRL between processes (several sftsd nodes on one state
    // directory, sfts-admin): an OFD lock (fcntl), which also works over NFS.
    std::string crl_lock_path() const { return state_dir + "/crl.lock"; }
};

// What crl.pem says about itself (no signature check: for warnings and for deciding to re-sign).
struct CrlState {
    bool readable = false;       // false: missing or not a CRL (problem says why)
    std::string problem;
    std::time_t last_update = 0;
    std::time_t next_update = 0;  // 0: none
};
CrlState read_crl_state(const std::string& crl_path);

struct InitResult {
    ossl::X509Ptr ca_cert;
    ossl::X509Ptr server_cert;
    std::string summary;  // human-readable: what was made and where
};

// Creates the server PKI: CA key and certificate, server TLS key and certificate, an empty CRL,
// the registry. Refuses (already_exists) when a PKI exists in the token or the state directory,
// unless force, which replaces it and keeps the old registry as pki.db.replaced-<time>.
// On any failure the token objects and files it made are removed again.
InitResult init_pki(const PkiConfig& cfg, const Secret& pin, bool force);

// A CA ready to issue: its key loaded from the token, its certificate from the state directory.
class Authority {
public:
    Authority(const PkiConfig& cfg, const Secret& pin);

    X509* ca_cert() const { return ca_cert_.get(); }
    EVP_PKEY* ca_key() const { return ca_key_.get(); }
    Registry& registry() { return registry_; }

    // Issues a client certificate for a validated CSR, recorded in the registry; pending until
    // pending_until when given (an enrollment not yet confirmed). A key whose certificate was
    // revoked is refused before anything is signed (Registry::key_refusal: permission_denied).
    ossl::X509Ptr issue_client(const ValidatedCsr& csr, std::optional<std::time_t> pending_until = {});

    // Renewal: issues a certificate for the validated key (days: the configured client lifetime
    // when 0), then revokes old_serial as superseded and publishes a fresh CRL, in that order. The
    // old serial must be a valid (unrevoked) client certificate of the same user, else nothing is
    // issued (permission_denied, or not_found for an unknown serial). If revoking fails, the new
    // certificate is revoked again: never two valid certificates out of one renewal.
    ossl::X509Ptr renew_client(const ValidatedCsr& csr, const std::string& old_serial, int days = 0);

    // Server certificate renewal, the CA unchanged (clients need nothing): a new RSA key pair in
    // the token under "<server_label>-next", a certificate for it (the pki.server_* settings),
    // recorded in the registry; then the switch: the current key pair and certificate become
    // "<server_label>-previous" (an older one of that name is destroyed), the new ones take
    // "<server_label>", and server.crt is replaced. A running sftsd keeps using the key it loaded
    // (still in the token) until it reloads (SIGHUP) or restarts. On a failure before the switch
    // the new objects are removed and nothing changed.
    ossl::X509Ptr renew_server(const Secret& pin);

    // Revokes a serial in the registry and publishes a fresh CRL.
    void revoke(const std::string& serial_hex, int reason = 0);

    // Builds a CRL from the registry, signs it in the token and writes crl.pem atomically, under
    // the CRL lock: a list built from an older registry never replaces a newer one.
    ossl::X509CrlPtr publish_crl();

    // Re-signs the CRL when it is due at `now` (less than cfg.crl_refresh_margin_s() left before
    // its nextUpdate, or crl.pem missing or unreadable). Decided under the CRL lock, so of several
    // nodes checking at once only the first re-signs; the others see the fresh list. True when
    // this call re-signed it. Throws when it is due and cannot be re-signed.
    bool refresh_crl_if_due(std::time_t now);

    // A 32-byte secret that only the holder of the CA key can compute, the same every time:
    // SHA-256(lp("sfts-derived-key-v1") || lp(purpose) || S), where S is the CA key's RSA
    // PKCS#1 v1.5 signature (deterministic) of SHA-256(lp("sfts-derived-key-v1") || lp(purpose)),
    // made in the token. S never leaves this process; the message is no certificate or CRL.
    // Error(crypto) if the key does not sign deterministically (then it cannot derive keys).
    std::vector<unsigned char> derive_secret(std::string_view purpose);

private:
    PkiConfig cfg_;
    ossl::X509Ptr ca_cert_;
    ossl::EvpPkeyPtr ca_key_;
    Registry registry_;
};

}  // namespace sfts::pki
