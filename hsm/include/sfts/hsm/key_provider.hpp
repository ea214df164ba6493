// Private keys that stay in the token, handed to OpenSSL as EVP_PKEYs.
// Today this is libp11's pkcs11 engine, loaded in code (never through OPENSSL_CONF, which broke
// software-key signing in the same process) and used only for the keys fetched from it. All key
// access goes through this one interface so an OpenSSL 3 provider can replace the engine later.
#pragma once

#include <set>
#include <memory>
#include <mutex>
#include <string>

#include "sfts/hsm/token.hpp"
#include "sfts/hsm/uri.hpp"
#include "sfts/ossl.hpp"
#include "sfts/secret.hpp"

namespace sfts::hsm {

class KeyProvider {
public:
    // One provider per module per process, created on first use and kept until exit, because
    // libp11 finalises the module when its engine is released.
    static KeyProvider& for_module(const std::string& module_path);

    // Loads the private key named by uri (token attributes + object label and/or id), logging in
    // with pin. Load keys once, before worker threads start (libp11's enumeration and first login
    // are not thread-safe); the returned key may then be used from many threads at once.
    // Wrong PIN: auth_failed; missing token or key: not_found.
    ossl::EvpPkeyPtr private_key(const ObjectUri& uri, const Secret& pin);

    const std::shared_ptr<Module>& module() const { return module_; }

    KeyProvider(const KeyProvider&) = delete;
    KeyProvider& operator=(const KeyProvider&) = delete;
    ~KeyProvider();

private:
    explicit KeyProvider(std::shared_ptr<Module> module);
    struct Engine;
    Engine& engine_for(const Token& token);

    std::shared_ptr<Module> module_;
    std::mutex mutex_;
    std::unique_ptr<Engine> engine_;
    std::set<CK_SLOT_ID> engine_slots_;  // the tokens the engine can see
};

// Path of libp11's engine shared object (from the build, overridable by SFTS_PKCS11_ENGINE).
std::string pkcs11_engine_path();

}  // namespace sfts::hsm
