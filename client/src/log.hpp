// The client's own timestamped log (POCO): connections, logins, every command with its result.
// Never a secret: PINs and passwords are not passed to it.
#pragma once

#include <Poco/Logger.h>

#include "sfts/client/client.hpp"

namespace sfts::client {

// The "sfts" logger, writing to cfg.log_file (rotated) once configured; silent when "none".
Poco::Logger& client_log(const ClientConfig& cfg);

// Runs f, logging "<what>: ok" or "<what>: <kind>: <message>", and rethrows failures.
template <typename F>
auto logged(Poco::Logger& log, const std::string& what, F&& f) -> decltype(f()) {
    try {
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            log.information(what + ": ok");
        } else {
            auto r = f();
            log.information(what + ": ok");
            return r;
        }
    } catch (const Error& e) {
        log.warning(what + ": " + std::string(errc_name(e.kind())) + ": " + e.what());
        throw;
    }
}

}  // namespace sfts::client
