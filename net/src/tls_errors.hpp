// Turning a failed OpenSSL call into the project's error vocabulary, in one place, so that
// the handshake, reads and writes all classify alike.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "sfts/error.hpp"

namespace sfts::net::detail {

struct TlsFailure {
    Errc kind;
    std::string reason;  // OpenSSL's reason text, e.g. "certificate verify failed (certificate has expired)"
};

// Classifies the failure of an SSL_* call that returned rc (SSL_get_error already != WANT_*),
// draining the thread's error queue. sys_errno is errno as it was right after the call.
TlsFailure classify_failure(const SSL* ssl, int ssl_error, int sys_errno);

}  // namespace sfts::net::detail
