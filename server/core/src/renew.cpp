#include "renew.hpp"

#include <Poco/Logger.h>

#include "sfts/error.hpp"
#include "sfts/pki/x509.hpp"

namespace sfts::server {

proto::RenewResult renew_certificate(ServerContext& ctx, const RenewCaller& caller, const proto::RenewRequest& r,
                                     std::vector<audit::Field>& audit) {
    auto csr = pki::validate_csr_der(r.csr_der.data(), r.csr_der.size());
    if (csr.username != caller.user) {
        // A logged-in user asking for someone else's name is an attack, not a typo.
        ctx.log->warning("renewal refused: CSR for '" + loggable(csr.username) + "' from " + caller.who);
        fail(Errc::permission_denied, "the CSR names '" + csr.username + "': you may renew only your own certificate");
    }
    if (EVP_PKEY_eq(csr.public_key.get(), caller.current_key) == 1)
        fail(Errc::invalid_argument, "the CSR has the key of the current certificate: renewal needs a new key");

    ossl::X509Ptr cert;
    {
        std::lock_guard lock(ctx.authority_mutex);
        cert = ctx.authority->renew_client(csr, caller.serial);
    }
    try {
        ctx.reload_crl();
    } catch (const Error& e) {
        // crl.pem is written; the file watcher loads it within seconds. The client must still
        // get the certificate it was issued: its old one is revoked.
        ctx.log->error(std::string("renewal: CRL not reloaded at once: ") + e.what());
    }
    std::string fresh = ossl::serial_hex(cert.get());
    audit.push_back({"new_serial", fresh});
    ctx.log->notice("certificate renewed: " + caller.who + ", new certificate " + fresh + "; " + caller.serial +
                    " revoked (superseded)");
    return proto::RenewResult{r.header.request_id, ossl::to_der(cert.get())};
}

}  // namespace sfts::server
