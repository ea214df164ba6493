#include "sfts/pki/registry.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Transaction.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>

#include <mutex>

#include "sfts/error.hpp"

using namespace Poco::Data::Keywords;

namespace sfts::pki {

namespace {

std::string crl_reason_name(int r) {
    static const char* const names[] = {"unspecified",          "keyCompromise",   "cACompromise",
                                        "affiliationChanged",   "superseded",      "cessationOfOperation",
                                        "certificateHold",      "reason 7",        "removeFromCRL",
                                        "privilegeWithdrawn",   "aACompromise"};
    return r >= 0 && r <= 10 ? names[r] : "reason " + std::to_string(r);
}

template <typename F>
auto db_call(const char* what, F&& f) {
    try {
        return f();
    } catch (const Poco::Exception& e) {
        throw Error(Errc::io, std::string("certificate registry: ") + what + ": " + e.displayText());
    }
}

}  // namespace

Registry::Registry(const std::string& path) {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
    db_call("open", [&] {
        db_ = std::make_unique<Poco::Data::Session>("SQLite", path);
        *db_ << "PRAGMA journal_mode=WAL", now;
        *db_ << "CREATE TABLE IF NOT EXISTS certificates ("
                " serial TEXT PRIMARY KEY, subject TEXT NOT NULL, kind TEXT NOT NULL,"
                " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
                " revoked_at INTEGER, reason INTEGER NOT NULL DEFAULT 0)",
            now;
        *db_ << "CREATE TABLE IF NOT EXISTS crl_state (id INTEGER PRIMARY KEY CHECK (id = 1), number INTEGER NOT NULL)",
            now;
        *db_ << "INSERT OR IGNORE INTO crl_state (id, number) VALUES (1, 0)", now;
        // Added later: the certificate itself, so that an operator can re-sign its key
        // (sfts-admin cert renew). Rows from before have none.
        int has_der = 0;
        *db_ << "SELECT COUNT(*) FROM pragma_table_info('certificates') WHERE name = 'der'", into(has_der), now;
        if (has_der == 0) *db_ << "ALTER TABLE certificates ADD COLUMN der BLOB", now;
        // Added later still: the key's SPKI hash (a revoked key is never certified again) and the
        // pending state of a two-phase enrollment. Existing rows get the hash from their stored
        // certificate; a row without one stays unknown (its key cannot be recognised).
        int has_spki = 0;
        *db_ << "SELECT COUNT(*) FROM pragma_table_info('certificates') WHERE name = 'spki_sha256'", into(has_spki), now;
        if (has_spki == 0) {
            Poco::Data::Transaction tx(*db_);
            *db_ << "ALTER TABLE certificates ADD COLUMN spki_sha256 TEXT", now;
            *db_ << "ALTER TABLE certificates ADD COLUMN pending_until INTEGER", now;
            std::vector<std::string> serials;
            std::vector<Poco::Data::BLOB> ders;
            *db_ << "SELECT serial, der FROM certificates WHERE der IS NOT NULL", into(serials), into(ders), now;
            for (std::size_t i = 0; i < serials.size(); ++i) {
                if (ders[i].size() == 0) continue;
                auto cert = ossl::x509_from_der(ders[i].rawContent(), ders[i].size());
                std::string h = spki_sha256(X509_get0_pubkey(cert.get()));
                *db_ << "UPDATE certificates SET spki_sha256 = ? WHERE serial = ?", use(h), use(serials[i]), now;
            }
            tx.commit();
        }
        *db_ << "CREATE INDEX IF NOT EXISTS certificates_spki ON certificates (spki_sha256)", now;
        return 0;
    });
}

std::string spki_sha256(const EVP_PKEY* key) {
    unsigned char* der = nullptr;
    int n = key ? i2d_PUBKEY(key, &der) : -1;
    if (n <= 0) ossl::fail_ossl(Errc::invalid_argument, "public key encoding");
    auto h = ossl::sha256(der, static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return ossl::hex(h);
}

Registry::~Registry() = default;

void Registry::record_issued(const X509* cert, const std::string& kind, std::optional<std::time_t> pending_until) {
    check_key(X509_get0_pubkey(cert));
    std::string spki = spki_sha256(X509_get0_pubkey(cert));
    Poco::Nullable<Poco::Int64> pending;
    if (pending_until) pending = static_cast<Poco::Int64>(*pending_until);
    std::string serial = ossl::serial_hex(cert);
    std::string subject = ossl::common_name(X509_get_subject_name(cert));
    Poco::Int64 nb = to_time_t(X509_get0_notBefore(cert), Errc::invalid_argument);
    Poco::Int64 na = to_time_t(X509_get0_notAfter(cert), Errc::invalid_argument);
    std::string k = kind;
    auto der_v = ossl::to_der(cert);
    Poco::Data::BLOB der(der_v.data(), der_v.size());
    db_call("record", [&] {
        *db_ << "INSERT INTO certificates (serial, subject, kind, not_before, not_after, der, spki_sha256, pending_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            use(serial), use(subject), use(k), use(nb), use(na), use(der), use(spki), use(pending), now;
        return 0;
    });
}

void Registry::revoke(const std::string& serial_hex, int reason, std::time_t when) {
    auto existing = find(serial_hex);
    if (!existing) fail(Errc::not_found, "no certificate with serial " + serial_hex + " was issued here");
    if (existing->revoked_at) fail(Errc::already_exists, "certificate " + serial_hex + " is already revoked");
    std::string s = serial_hex;
    Poco::Int64 w = when;
    int r = reason;
    db_call("revoke", [&] {
        *db_ << "UPDATE certificates SET revoked_at = ?, reason = ? WHERE serial = ? AND revoked_at IS NULL", use(w),
            use(r), use(s), now;
        return 0;
    });
}

std::vector<IssuedCert> Registry::select(const std::string* serial_filter) {
    return db_call("query", [&] {
        std::vector<IssuedCert> out;
        Poco::Data::Statement st(*db_);
        std::string serial, subject, kind;
        Poco::Int64 nb = 0, na = 0;
        Poco::Nullable<Poco::Int64> rev, pending;
        Poco::Nullable<std::string> spki;
        int reason = 0;
        st << "SELECT serial, subject, kind, not_before, not_after, revoked_at, reason, spki_sha256, pending_until"
              " FROM certificates";
        std::string filter = serial_filter ? *serial_filter : std::string();
        if (serial_filter) st << " WHERE serial = ?", use(filter);
        st << " ORDER BY not_before, serial", into(serial), into(subject), into(kind), into(nb), into(na), into(rev),
            into(reason), into(spki), into(pending), range(0, 1);
        while (!st.done()) {
            if (st.execute() == 0) break;
            IssuedCert c{serial, subject, kind, static_cast<std::time_t>(nb), static_cast<std::time_t>(na), {}, reason, {}, {}};
            if (!rev.isNull()) c.revoked_at = static_cast<std::time_t>(rev.value());
            if (!spki.isNull()) c.spki_sha256 = spki.value();
            if (!pending.isNull()) c.pending_until = static_cast<std::time_t>(pending.value());
            out.push_back(std::move(c));
        }
        return out;
    });
}

std::optional<IssuedCert> Registry::find(const std::string& serial_hex) {
    auto rows = select(&serial_hex);
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

std::vector<IssuedCert> Registry::list() { return select(nullptr); }

ossl::X509Ptr Registry::certificate(const std::string& serial_hex) {
    return db_call("certificate", [&]() -> ossl::X509Ptr {
        std::string s = serial_hex;
        Poco::Data::BLOB der;  // NULL reads back as empty
        Poco::Data::Statement st(*db_);
        st << "SELECT der FROM certificates WHERE serial = ?", use(s), into(der), now;
        if (st.rowsExtracted() == 0 || der.size() == 0) return nullptr;
        return ossl::x509_from_der(der.rawContent(), der.size());
    });
}

std::optional<std::string> Registry::key_refusal(const std::string& spki_hex) {
    return db_call("key check", [&]() -> std::optional<std::string> {
        std::string h = spki_hex;
        std::vector<std::string> serials;
        std::vector<int> reasons;
        std::vector<Poco::Int64> when;
        int superseded = kReasonSuperseded;
        *db_ << "SELECT serial, reason, revoked_at FROM certificates WHERE spki_sha256 = ? AND revoked_at IS NOT NULL"
                " AND reason <> ? AND pending_until IS NULL ORDER BY revoked_at LIMIT 1",
            use(h), use(superseded), into(serials), into(reasons), into(when), now;
        if (serials.empty()) return std::nullopt;
        return "this key's certificate " + serials[0] + " was revoked (" + crl_reason_name(reasons[0]) + ") on " +
               utc_string(static_cast<std::time_t>(when[0])) + ": a revoked key is never certified again; make a new key";
    });
}

void Registry::check_key(const EVP_PKEY* key) {
    if (auto why = key_refusal(spki_sha256(key))) fail(Errc::permission_denied, *why);
}

bool Registry::confirm(const std::string& serial_hex) {
    return db_call("confirm", [&] {
        std::string s = serial_hex;
        Poco::Data::Statement st(*db_);
        st << "UPDATE certificates SET pending_until = NULL WHERE serial = ? AND pending_until IS NOT NULL"
              " AND revoked_at IS NULL",
            use(s);
        return st.execute() == 1;
    });
}

std::vector<IssuedCert> Registry::expired_pending(std::time_t now) {
    std::vector<IssuedCert> out;
    for (auto& c : list())
        if (c.pending() && (now == 0 || *c.pending_until <= now)) out.push_back(std::move(c));
    return out;
}

std::vector<RevokedEntry> Registry::revoked() {
    std::vector<RevokedEntry> out;
    for (auto& c : list())
        if (c.revoked_at) out.push_back({c.serial_hex, *c.revoked_at, c.reason});
    return out;
}

std::uint64_t Registry::next_crl_number() {
    return db_call("crl number", [&] {
        Poco::Data::Transaction tx(*db_);
        *db_ << "UPDATE crl_state SET number = number + 1 WHERE id = 1", now;
        Poco::Int64 n = 0;
        *db_ << "SELECT number FROM crl_state WHERE id = 1", into(n), now;
        tx.commit();
        return static_cast<std::uint64_t>(n);
    });
}

}  // namespace sfts::pki
