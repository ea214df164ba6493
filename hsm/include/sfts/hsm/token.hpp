// Raw PKCS#11 access for what OpenSSL's engine cannot do: token set-up, key generation with an
// explicit attribute template, certificate storage, attribute checks. Signing goes through
// KeyProvider (key_provider.hpp) so the private key stays in the token.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sfts/hsm/pkcs11.hpp"
#include "sfts/hsm/uri.hpp"
#include "sfts/ossl.hpp"
#include "sfts/secret.hpp"

namespace sfts::hsm {

// SoftHSM2's module on Debian; a smartcard or network HSM is selected by configuration alone.
extern const char* const kDefaultModulePath;

// A loaded, initialised PKCS#11 module. One per module path per process: the module's state is
// process-wide, so it is initialised once and finalised once (at exit, after the engine).
class Module {
public:
    static std::shared_ptr<Module> load(const std::string& path);
    ~Module();
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    const std::string& path() const { return path_; }
    CK_FUNCTION_LIST* fn() const { return fn_; }

    struct TokenInfo {
        CK_SLOT_ID slot;
        std::string label, manufacturer, model, serial;
        bool initialized;
        bool user_pin_initialized;
    };
    // Every slot that has a token present.
    std::vector<TokenInfo> tokens() const;

    // Initialises a fresh token in a free slot (SoftHSM2 always offers one; a smartcard is
    // usually initialised by its issuer) and sets its user PIN. Refuses an existing label.
    void init_token(const std::string& label, const Secret& so_pin, const Secret& user_pin);

private:
    Module(std::string path, void* handle, CK_FUNCTION_LIST* fn);
    std::string path_;
    void* handle_;
    CK_FUNCTION_LIST* fn_;
};

// Throws Error naming the operation, the context (token/object) and the CKR_* name.
void check_rv(CK_RV rv, const char* op, const std::string& context);

struct KeyAttributes {
    bool token = false, is_private = false, sensitive = false, extractable = true;
    bool always_sensitive = false, never_extractable = false, sign = false;
    CK_ULONG modulus_bits = 0;
};

struct KeyHandle {
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
    std::string label;
    std::vector<std::uint8_t> id;
    // Set by generate_rsa: which attribute template the token accepted ("full" or the name of
    // a reduced one, see key_templates in token.cpp).
    std::string key_template;
};

// Where the hsm layer reports things worth a line in a log but not an error (a token that
// refused the full key template and took a reduced one). Default: one line on stderr.
// The handler must not throw; set it once at start-up.
void set_notice_handler(void (*handler)(const std::string& message));
void notice(const std::string& message);

class Session;

// One token, found by the token attributes of a URI (exactly one must match).
class Token {
public:
    Token(std::shared_ptr<Module> module, const ObjectUri& uri);

    const std::string& label() const { return label_; }
    CK_SLOT_ID slot() const { return slot_; }
    Module& module() const { return *module_; }
    const std::shared_ptr<Module>& module_ptr() const { return module_; }
    const ObjectUri& uri() const { return uri_; }

    // Opens a session; with a PIN it logs in as the user (already logged in is fine: the
    // login state is shared by every session of this process, the engine's included).
    Session open(bool read_write, const Secret* pin = nullptr) const;

private:
    std::shared_ptr<Module> module_;
    ObjectUri uri_;
    CK_SLOT_ID slot_ = 0;
    std::string label_;
};

class Session {
public:
    Session(const Token& token, CK_SESSION_HANDLE h) : token_(&token), h_(h) {}
    Session(Session&& o) noexcept : token_(o.token_), h_(o.h_) { o.h_ = CK_INVALID_HANDLE; }
    Session& operator=(Session&&) = delete;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    // Closing never logs out explicitly: other sessions (the engine's) keep the login.
    ~Session();

    CK_SESSION_HANDLE handle() const { return h_; }
    const Token& token() const { return *token_; }

    // RSA key pair generated inside the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
    // CKA_EXTRACTABLE false. Label and id are set on both halves. Refuses an existing label.
    // Real tokens differ in what they accept: when the token refuses the full template (which
    // also turns encryption, decryption, wrapping and unwrapping off) with
    // CKR_TEMPLATE_INCONSISTENT, CKR_GENERAL_ERROR, CKR_ATTRIBUTE_VALUE_INVALID or
    // CKR_ATTRIBUTE_TYPE_INVALID, it is asked again with a reduced template that leaves those
    // usages to the token (a TPM makes keys for signing and decryption), reported through
    // notice(). Sensitivity, non-extractability and generation in the token are never given
    // up: the new key's attributes are read back and a key that is not sensitive, always
    // sensitive, non-extractable and never extractable is destroyed and refused (Errc::token).
    KeyHandle generate_rsa(const std::string& label, CK_ULONG bits = 3072);

    // Finds a key pair by label and/or id (at least one). nullopt when absent; more than one
    // match is invalid_argument (ambiguous).
    std::optional<KeyHandle> find_key(const std::string& label, const std::vector<std::uint8_t>& id = {});

    KeyAttributes attributes(CK_OBJECT_HANDLE priv);

    // Throws Errc::token naming the attribute when the private key is not sensitive, always
    // sensitive, non-extractable and never extractable (what the token itself reports).
    void require_protected(CK_OBJECT_HANDLE priv, const std::string& label);

    // Tries to read the private key's secret parts; returns the module's answer (CKR_OK would
    // mean the key leaked; a well-behaved token says CKR_ATTRIBUTE_SENSITIVE).
    CK_RV try_read_private_value(CK_OBJECT_HANDLE priv, CK_ATTRIBUTE_TYPE what = CKA_PRIVATE_EXPONENT);

    // Public half as an OpenSSL key (modulus + exponent read from the token).
    ossl::EvpPkeyPtr public_key(const KeyHandle& key);

    // Stores a certificate next to its key (same label and id). Replaces a certificate with the
    // same label when replace is true, refuses otherwise.
    void store_certificate(const X509* cert, const std::string& label, const std::vector<std::uint8_t>& id,
                           bool replace = false);
    ossl::X509Ptr find_certificate(const std::string& label);

    // Destroys every object with this label (key pair and certificate). Used to roll back a
    // half-made set-up.
    void destroy_objects(const std::string& label);

    // Gives every object labelled from (key pair, certificate) the label to; returns how many.
    // Refuses (already_exists) while an object labelled to exists. Ids stay as they are.
    std::size_t relabel(const std::string& from, const std::string& to);

private:
    std::vector<CK_OBJECT_HANDLE> find(std::vector<CK_ATTRIBUTE> tmpl, std::size_t max = 16);
    std::string context(const std::string& object = {}) const;

    const Token* token_;
    CK_SESSION_HANDLE h_;
};

}  // namespace sfts::hsm
