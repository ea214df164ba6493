// The record of every certificate the CA issued and revoked, kept in SQL through POCO Data
// (SQLite in the state directory by default), so the CRL can always be rebuilt from it.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sfts/pki/x509.hpp"

namespace Poco::Data {
class Session;
}

namespace sfts::pki {

struct IssuedCert {
    std::string serial_hex;
    std::string subject;  // CN
    std::string kind;     // "ca", "server" or "client"
    std::time_t not_before = 0;
    std::time_t not_after = 0;
    std::optional<std::time_t> revoked_at;
    int reason = 0;
    std::string spki_sha256;  // hex SHA-256 of the DER SubjectPublicKeyInfo; empty if unknown
    // Set while an enrollment waits for the client's confirmation (docs/protocol.md 4.2); kept
    // after an unconfirmed certificate is revoked, so "never confirmed" stays visible.
    std::optional<std::time_t> pending_until;

    bool pending() const { return pending_until && !revoked_at; }
    bool never_confirmed() const { return pending_until.has_value(); }
};

// Hex SHA-256 of the DER SubjectPublicKeyInfo of key: what the registry remembers a key by.
std::string spki_sha256(const EVP_PKEY* key);

// CRL reason of a certificate whose enrollment was never confirmed (cessationOfOperation).
inline constexpr int kReasonUnconfirmed = 5;
inline constexpr int kReasonSuperseded = 4;

class Registry {
public:
    // Opens (creating when needed) the database at path; "SQLite" connector by default.
    explicit Registry(const std::string& path);
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Records a certificate. A client certificate may be recorded pending (until pending_until):
    // the file service refuses it until confirm(). Refuses (permission_denied) a key that
    // key_refusal() names.
    void record_issued(const X509* cert, const std::string& kind, std::optional<std::time_t> pending_until = {});
    // Why a public key must never be certified again, or nullopt: a certificate for it was
    // revoked for any reason but superseded (a renewal re-signs a key on purpose) and was not
    // an enrollment that was never confirmed (its key never left the client's token).
    std::optional<std::string> key_refusal(const std::string& spki_hex);
    void check_key(const EVP_PKEY* key);  // permission_denied with key_refusal()'s text
    // A pending certificate becomes valid; false if it is not pending (revoked or unknown).
    bool confirm(const std::string& serial_hex);
    // Pending certificates whose time is up at now (all of them when now is 0).
    std::vector<IssuedCert> expired_pending(std::time_t now);
    // Marks a serial revoked. Unknown serial: not_found; already revoked: already_exists.
    void revoke(const std::string& serial_hex, int reason, std::time_t when);
    std::optional<IssuedCert> find(const std::string& serial_hex);
    std::vector<IssuedCert> list();
    // The certificate as issued; nullptr for an unknown serial or one recorded before the
    // registry kept certificates.
    ossl::X509Ptr certificate(const std::string& serial_hex);
    std::vector<RevokedEntry> revoked();
    // Monotonic CRL number (RFC 5280 5.2.3), persisted.
    std::uint64_t next_crl_number();

private:
    std::vector<IssuedCert> select(const std::string* serial_filter);
    std::unique_ptr<Poco::Data::Session> db_;
};

}  // namespace sfts::pki
