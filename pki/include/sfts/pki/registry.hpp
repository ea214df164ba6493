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
};

class Registry {
public:
    // Opens (creating when needed) the database at path; "SQLite" connector by default.
    explicit Registry(const std::string& path);
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    void record_issued(const X509* cert, const std::string& kind);
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
