// Certificate renewal on the file service (the `renew` command, docs/protocol.md 4.6).
#pragma once

#include <string>
#include <vector>

#include "sfts/audit/audit_log.hpp"
#include "sfts/protocol/messages_renew.hpp"
#include "sfts/server/context.hpp"

namespace sfts::server {

// Who is renewing: the logged-in user and the certificate the connection was made with.
struct RenewCaller {
    const std::string& user;
    const std::string& serial;
    EVP_PKEY* current_key;
    const std::string& who;  // for log lines
};

// Checks the CSR with the enrollment policy (its CN must be the caller, its key new), issues the
// new certificate in the CA token, revokes the caller's certificate as superseded and reloads the
// CRL, so this very server refuses the old certificate from the next handshake on. Adds the new
// serial to audit. Refusals are Error(invalid_argument / permission_denied) and change nothing.
proto::RenewResult renew_certificate(ServerContext& ctx, const RenewCaller& caller, const proto::RenewRequest& r,
                                     std::vector<audit::Field>& audit);

}  // namespace sfts::server
