// The only file that touches OpenSSL's ENGINE API.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "sfts/hsm/key_provider.hpp"

#include <openssl/engine.h>

#include <cstdlib>
#include <map>

#include "sfts/error.hpp"

namespace sfts::hsm {

struct KeyProvider::Engine {
    ENGINE* e = nullptr;
    bool initialised = false;
    // Only a failed set-up is torn down; a working engine lives as long as the process.
    ~Engine() {
        if (initialised) ENGINE_finish(e);
        if (e) ENGINE_free(e);
    }
};

std::string pkcs11_engine_path() {
    if (const char* p = std::getenv("SFTS_PKCS11_ENGINE"); p && *p) return p;
    return SFTS_PKCS11_ENGINE_PATH;
}

KeyProvider& KeyProvider::for_module(const std::string& module_path) {
    static std::mutex m;
    // Never destroyed: the engine holds the module's process-wide state, and tearing it down
    // during static destruction races with other exit-time users. The OS reclaims both.
    static auto* providers = new std::map<std::string, std::unique_ptr<KeyProvider>>;
    std::lock_guard lock(m);
    auto& slot = (*providers)[module_path];
    if (!slot) slot.reset(new KeyProvider(Module::load(module_path)));
    return *slot;
}

KeyProvider::KeyProvider(std::shared_ptr<Module> module) : module_(std::move(module)) {}
KeyProvider::~KeyProvider() = default;

KeyProvider::Engine& KeyProvider::engine_for(const Token& token) {
    // libp11 enumerates slots once, at the engine's first load, and OpenSSL's dynamic loader
    // allows one live instance of an engine library per process (and libp11 0.4.12's
    // RE_ENUMERATE crashes once it knows two slots). So there is one engine, and it only ever
    // sees the tokens present when it started: say so instead of failing obscurely later.
    if (engine_) {
        if (!engine_slots_.count(token.slot()))
            fail(Errc::unavailable, "token '" + token.label() +
                                        "' appeared after this process first loaded a token key; "
                                        "the pkcs11 engine only sees tokens present at that moment: restart the program");
        return *engine_;
    }
    auto eng = std::make_unique<Engine>();
    OPENSSL_init_crypto(OPENSSL_INIT_ENGINE_DYNAMIC, nullptr);
    eng->e = ENGINE_by_id("dynamic");
    if (!eng->e) ossl::fail_ossl(Errc::unavailable, "OpenSSL has no dynamic engine loader");
    std::string so = pkcs11_engine_path();
    if (!ENGINE_ctrl_cmd_string(eng->e, "SO_PATH", so.c_str(), 0) ||
        !ENGINE_ctrl_cmd_string(eng->e, "ID", "pkcs11", 0) || !ENGINE_ctrl_cmd_string(eng->e, "LIST_ADD", "0", 0) ||
        !ENGINE_ctrl_cmd_string(eng->e, "LOAD", nullptr, 0))
        ossl::fail_ossl(Errc::unavailable, "cannot load libp11's pkcs11 engine from " + so);
    if (!ENGINE_ctrl_cmd_string(eng->e, "MODULE_PATH", module_->path().c_str(), 0))
        ossl::fail_ossl(Errc::unavailable, "pkcs11 engine refused MODULE_PATH " + module_->path());
    if (!ENGINE_init(eng->e)) ossl::fail_ossl(Errc::unavailable, "cannot initialise the pkcs11 engine");
    eng->initialised = true;
    for (const auto& t : module_->tokens()) engine_slots_.insert(t.slot);
    engine_ = std::move(eng);
    return *engine_;
}

ossl::EvpPkeyPtr KeyProvider::private_key(const ObjectUri& uri, const Secret& pin) {
    if (uri.object.empty() && uri.id.empty())
        fail(Errc::invalid_argument, "key URI " + uri.to_string() + " names no object (add object=LABEL)");
    std::lock_guard lock(mutex_);
    // Check the token, the PIN and the key with our own session first: the engine's errors
    // do not say which of them is wrong. The login also stays shared with the engine's sessions.
    Token token(module_, uri);
    Session session = token.open(false, &pin);
    auto key = session.find_key(uri.object, uri.id);
    std::string what = "token '" + token.label() + "', object '" + uri.object + "'";
    if (!key) fail(Errc::not_found, what + ": no private key");
    session.require_protected(key->priv, key->label);

    Engine& engine = engine_for(token);
    // The engine copies the PIN; we cannot wipe its copy, only keep it inside the process.
    if (!ENGINE_ctrl_cmd_string(engine.e, "PIN", pin.c_str(), 0))
        ossl::fail_ossl(Errc::token, what + ": engine refused the PIN");
    // Name the key by its id, which is unique, rather than by a label that may not be.
    ObjectUri exact = uri.with_object(key->label, key->id);
    std::string text = exact.to_string("private");
    EVP_PKEY* pk = ENGINE_load_private_key(engine.e, text.c_str(), nullptr, nullptr);
    if (!pk) ossl::fail_ossl(Errc::token, what + ": the pkcs11 engine could not load the key");
    return ossl::EvpPkeyPtr(pk);
}

}  // namespace sfts::hsm
