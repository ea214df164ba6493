#include "sfts/hsm/token.hpp"

#include <dlfcn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>

#include "sfts/error.hpp"
#include "sfts/hsm/ckr.hpp"

namespace sfts::hsm {

const char* const kDefaultModulePath = "/usr/lib/softhsm/libsofthsm2.so";

namespace {

Errc kind_of(CK_RV rv) {
    switch (rv) {
        case CKR_PIN_INCORRECT:
        case CKR_PIN_INVALID:
        case CKR_PIN_LEN_RANGE:
        case CKR_PIN_LOCKED:
        case CKR_PIN_EXPIRED:
        case CKR_USER_NOT_LOGGED_IN: return Errc::auth_failed;
        case CKR_TOKEN_NOT_PRESENT:
        case CKR_TOKEN_NOT_RECOGNIZED:
        case CKR_DEVICE_REMOVED:
        case CKR_SLOT_ID_INVALID: return Errc::unavailable;
        case CKR_ATTRIBUTE_SENSITIVE:
        case CKR_KEY_UNEXTRACTABLE: return Errc::permission_denied;
        default: return Errc::token;
    }
}

std::string unpad(const unsigned char* s, std::size_t n) {
    std::string out(reinterpret_cast<const char*>(s), n);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
    return out;
}

void pad_label(const std::string& label, unsigned char (&out)[32]) {
    if (label.empty() || label.size() > sizeof out)
        fail(Errc::invalid_argument, "token label must be 1 to 32 bytes: '" + label + "'");
    std::memset(out, ' ', sizeof out);
    std::memcpy(out, label.data(), label.size());
}

CK_UTF8CHAR_PTR utf8(const Secret& s) {
    return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s.c_str()));
}

std::mutex g_registry_mutex;
std::map<std::string, std::weak_ptr<Module>>& registry() {
    static std::map<std::string, std::weak_ptr<Module>> r;
    return r;
}

}  // namespace

void check_rv(CK_RV rv, const char* op, const std::string& context) {
    if (rv == CKR_OK) return;
    throw Error(kind_of(rv), context + ": " + op + " failed: " + ckr_name(rv));
}

// ---------------------------------------------------------------- Module

std::shared_ptr<Module> Module::load(const std::string& path) {
    std::lock_guard lock(g_registry_mutex);
    auto& reg = registry();
    if (auto it = reg.find(path); it != reg.end())
        if (auto m = it->second.lock()) return m;

    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        fail(Errc::unavailable, "cannot load PKCS#11 module " + path + ": " + (why ? why : "unknown error"));
    }
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
    if (!get_list) {
        ::dlclose(handle);
        fail(Errc::unavailable, "PKCS#11 module " + path + " has no C_GetFunctionList");
    }
    CK_FUNCTION_LIST* fn = nullptr;
    CK_RV rv = get_list(&fn);
    if (rv != CKR_OK || !fn) {
        ::dlclose(handle);
        fail(Errc::unavailable, "module " + path + ": C_GetFunctionList failed: " + ckr_name(rv));
    }
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    rv = fn->C_Initialize(&args);
    // The engine (libp11) may have initialised this module first; the state is shared.
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        ::dlclose(handle);
        fail(Errc::unavailable, "module " + path + ": C_Initialize failed: " + ckr_name(rv));
    }
    std::shared_ptr<Module> m(new Module(path, handle, fn));
    reg[path] = m;
    return m;
}

Module::Module(std::string path, void* handle, CK_FUNCTION_LIST* fn)
    : path_(std::move(path)), handle_(handle), fn_(fn) {}

Module::~Module() {
    fn_->C_Finalize(nullptr);  // CKR_CRYPTOKI_NOT_INITIALIZED if the engine finalised it first
    ::dlclose(handle_);
}

std::vector<Module::TokenInfo> Module::tokens() const {
    CK_ULONG n = 0;
    check_rv(fn_->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList", "module " + path_);
    std::vector<CK_SLOT_ID> slots(n);
    check_rv(fn_->C_GetSlotList(CK_TRUE, slots.data(), &n), "C_GetSlotList", "module " + path_);
    slots.resize(n);
    std::vector<TokenInfo> out;
    for (CK_SLOT_ID s : slots) {
        CK_TOKEN_INFO ti{};
        if (fn_->C_GetTokenInfo(s, &ti) != CKR_OK) continue;  // removed meanwhile
        out.push_back({s, unpad(ti.label, sizeof ti.label), unpad(ti.manufacturerID, sizeof ti.manufacturerID),
                       unpad(ti.model, sizeof ti.model), unpad(ti.serialNumber, sizeof ti.serialNumber),
                       (ti.flags & CKF_TOKEN_INITIALIZED) != 0, (ti.flags & CKF_USER_PIN_INITIALIZED) != 0});
    }
    return out;
}

void Module::init_token(const std::string& label, const Secret& so_pin, const Secret& user_pin) {
    unsigned char padded[32];
    pad_label(label, padded);
    std::string ctx = "token '" + label + "'";
    if (so_pin.empty() || user_pin.empty()) fail(Errc::invalid_argument, ctx + ": PINs must not be empty");
    std::optional<CK_SLOT_ID> free_slot;
    for (const auto& t : tokens()) {
        if (t.initialized && t.label == label) fail(Errc::already_exists, ctx + " already exists in " + path_);
        if (!t.initialized && !free_slot) free_slot = t.slot;
    }
    if (!free_slot) fail(Errc::unavailable, ctx + ": module " + path_ + " has no uninitialised token");
    check_rv(fn_->C_InitToken(*free_slot, utf8(so_pin), so_pin.size(), padded), "C_InitToken", ctx);

    // SoftHSM2 moves an initialised token to a new slot id: look it up again by label.
    ObjectUri uri;
    uri.token = label;
    Token token(load(path_), uri);
    CK_SESSION_HANDLE h;
    check_rv(fn_->C_OpenSession(token.slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h),
             "C_OpenSession", ctx);
    Session session(token, h);
    check_rv(fn_->C_Login(h, CKU_SO, utf8(so_pin), so_pin.size()), "C_Login(SO)", ctx);
    check_rv(fn_->C_InitPIN(h, utf8(user_pin), user_pin.size()), "C_InitPIN", ctx);
    check_rv(fn_->C_Logout(h), "C_Logout(SO)", ctx);
}

// ---------------------------------------------------------------- Token

Token::Token(std::shared_ptr<Module> module, const ObjectUri& uri) : module_(std::move(module)), uri_(uri) {
    if (!uri.names_token()) fail(Errc::invalid_argument, "PKCS#11 URI does not name a token (add token=LABEL)");
    std::vector<Module::TokenInfo> matches;
    for (auto& t : module_->tokens()) {
        if (!t.initialized) continue;
        if (!uri.token.empty() && t.label != uri.token) continue;
        if (!uri.serial.empty() && t.serial != uri.serial) continue;
        if (!uri.manufacturer.empty() && t.manufacturer != uri.manufacturer) continue;
        if (!uri.model.empty() && t.model != uri.model) continue;
        matches.push_back(t);
    }
    std::string want = uri.to_string();
    if (matches.empty()) fail(Errc::not_found, "no token matches " + want + " in module " + module_->path());
    if (matches.size() > 1)
        fail(Errc::invalid_argument, std::to_string(matches.size()) + " tokens match " + want + "; add serial=");
    slot_ = matches[0].slot;
    label_ = matches[0].label;
}

Session Token::open(bool read_write, const Secret* pin) const {
    std::string ctx = "token '" + label_ + "'";
    CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
    CK_SESSION_HANDLE h;
    check_rv(module_->fn()->C_OpenSession(slot_, flags, nullptr, nullptr, &h), "C_OpenSession", ctx);
    Session s(*this, h);
    if (pin) {
        CK_RV rv = module_->fn()->C_Login(h, CKU_USER, utf8(*pin), pin->size());
        if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
            // Say in words what the token says about its PIN (after the failure: the counters
            // have moved), so a user stops before the last try.
            std::string state;
            CK_TOKEN_INFO ti{};
            if (module_->fn()->C_GetTokenInfo(slot_, &ti) == CKR_OK) {
                if (rv == CKR_PIN_LOCKED || (ti.flags & CKF_USER_PIN_LOCKED))
                    state = "the user PIN is locked: the token's security officer must unlock or reset it";
                else if (ti.flags & CKF_USER_PIN_FINAL_TRY)
                    state = "one more wrong PIN locks the token";
                else if (ti.flags & CKF_USER_PIN_COUNT_LOW)
                    state = "few PIN tries are left before the token locks";
            } else if (rv == CKR_PIN_LOCKED) {
                state = "the user PIN is locked: the token's security officer must unlock or reset it";
            }
            if (!state.empty()) ctx += " (" + state + ")";
            check_rv(rv, "C_Login", ctx);
        }
    }
    return s;
}

// ---------------------------------------------------------------- Session

Session::~Session() {
    if (h_ != CK_INVALID_HANDLE) token_->module().fn()->C_CloseSession(h_);
}

std::string Session::context(const std::string& object) const {
    std::string c = "token '" + token_->label() + "'";
    if (!object.empty()) c += ", object '" + object + "'";
    return c;
}

std::vector<CK_OBJECT_HANDLE> Session::find(std::vector<CK_ATTRIBUTE> tmpl, std::size_t max) {
    auto* fn = token_->module().fn();
    check_rv(fn->C_FindObjectsInit(h_, tmpl.data(), tmpl.size()), "C_FindObjectsInit", context());
    std::vector<CK_OBJECT_HANDLE> found(max);
    CK_ULONG n = 0;
    CK_RV rv = fn->C_FindObjects(h_, found.data(), max, &n);
    fn->C_FindObjectsFinal(h_);
    check_rv(rv, "C_FindObjects", context());
    found.resize(n);
    return found;
}

namespace {

// The attribute templates tried in order. Every one keeps what sfts relies on (a token object,
// private, sensitive, not extractable, for signing, with our label and id); they differ in
// what they say about usages sfts does not need. The token decides what it leaves out.
struct KeyTemplate {
    const char* name;
    const char* left_to_token;
    bool usages_off;  // CKA_ENCRYPT/DECRYPT/WRAP/UNWRAP explicitly false
    bool exponent;    // CKA_PUBLIC_EXPONENT 65537 (else the token's default, 65537 everywhere seen)
    bool key_type;    // CKA_KEY_TYPE on both halves (implied by the mechanism)
};
constexpr KeyTemplate key_templates[] = {
    {"full", "", true, true, true},
    {"reduced", "encrypt/decrypt/wrap/unwrap", false, true, true},
    {"minimal", "encrypt/decrypt/wrap/unwrap, public exponent, key type", false, false, false},
};

bool worth_retrying(CK_RV rv) {
    return rv == CKR_TEMPLATE_INCONSISTENT || rv == CKR_GENERAL_ERROR || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
           rv == CKR_ATTRIBUTE_TYPE_INVALID;
}

void stderr_notice(const std::string& message) { std::fprintf(stderr, "sfts: %s\n", message.c_str()); }
std::atomic<void (*)(const std::string&)> g_notice{stderr_notice};

}  // namespace

void set_notice_handler(void (*handler)(const std::string& message)) {
    g_notice.store(handler ? handler : stderr_notice);
}

void notice(const std::string& message) { g_notice.load()(message); }

KeyHandle Session::generate_rsa(const std::string& label, CK_ULONG bits) {
    if (label.empty() || label.size() > 64) fail(Errc::invalid_argument, "key label must be 1 to 64 bytes");
    if (bits < 2048 || bits > 8192) fail(Errc::invalid_argument, "RSA key size must be 2048 to 8192 bits");
    if (find_key(label)) fail(Errc::already_exists, context(label) + ": a key with this label already exists");
    std::vector<std::uint8_t> id(16);
    ossl::check(RAND_bytes(id.data(), static_cast<int>(id.size())), "RAND_bytes");

    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BYTE exponent[] = {0x01, 0x00, 0x01};
    CK_KEY_TYPE kt = CKK_RSA;
    auto* lbl = const_cast<char*>(label.data());
    CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
    KeyHandle k;
    std::vector<std::string> refused;  // "NAME template (CKR_...)" for each one the token turned down
    CK_RV rv = CKR_OK;
    const KeyTemplate* used = nullptr;
    for (const KeyTemplate& kt_def : key_templates) {
        std::vector<CK_ATTRIBUTE> pub = {
            {CKA_TOKEN, &yes, sizeof yes},          {CKA_PRIVATE, &no, sizeof no},
            {CKA_VERIFY, &yes, sizeof yes},         {CKA_MODULUS_BITS, &bits, sizeof bits},
            {CKA_LABEL, lbl, label.size()},         {CKA_ID, id.data(), id.size()},
        };
        std::vector<CK_ATTRIBUTE> priv = {
            {CKA_TOKEN, &yes, sizeof yes},        {CKA_PRIVATE, &yes, sizeof yes},
            {CKA_SENSITIVE, &yes, sizeof yes},    {CKA_EXTRACTABLE, &no, sizeof no},
            {CKA_SIGN, &yes, sizeof yes},         {CKA_LABEL, lbl, label.size()},
            {CKA_ID, id.data(), id.size()},
        };
        if (kt_def.usages_off) {
            pub.push_back({CKA_ENCRYPT, &no, sizeof no});
            pub.push_back({CKA_WRAP, &no, sizeof no});
            priv.push_back({CKA_DECRYPT, &no, sizeof no});
            priv.push_back({CKA_UNWRAP, &no, sizeof no});
        }
        if (kt_def.exponent) pub.push_back({CKA_PUBLIC_EXPONENT, exponent, sizeof exponent});
        if (kt_def.key_type) {
            pub.push_back({CKA_KEY_TYPE, &kt, sizeof kt});
            priv.push_back({CKA_KEY_TYPE, &kt, sizeof kt});
        }
        k.pub = k.priv = CK_INVALID_HANDLE;
        rv = token_->module().fn()->C_GenerateKeyPair(h_, &mech, pub.data(), pub.size(), priv.data(), priv.size(),
                                                     &k.pub, &k.priv);
        if (rv == CKR_OK) {
            used = &kt_def;
            k.key_template = kt_def.name;
            break;
        }
        refused.push_back(std::string(kt_def.name) + " template (" + ckr_name(rv) + ")");
        if (!worth_retrying(rv)) break;
    }
    if (rv != CKR_OK) {
        std::string why;
        for (const auto& r : refused) why += (why.empty() ? "" : "; ") + r;
        throw Error(kind_of(rv), context(label) + ": C_GenerateKeyPair failed: " + ckr_name(rv) +
                                     (refused.size() > 1 ? " (templates tried: " + why + ")" : ""));
    }
    if (!refused.empty()) {
        std::string why;
        for (const auto& r : refused) why += (why.empty() ? "" : ", ") + r;
        notice(context(label) + ": the token refused the " + why + "; key generated with the " + used->name +
               " template (" + used->left_to_token + " left to the token)");
    }
    k.label = label;
    k.id = std::move(id);
    try {
        require_protected(k.priv, label);
    } catch (...) {
        auto* fn = token_->module().fn();
        fn->C_DestroyObject(h_, k.priv);
        if (k.pub != CK_INVALID_HANDLE) fn->C_DestroyObject(h_, k.pub);
        throw;
    }
    return k;
}

void Session::require_protected(CK_OBJECT_HANDLE priv, const std::string& label) {
    auto a = attributes(priv);
    const char* bad = !a.sensitive           ? "CKA_SENSITIVE is false"
                      : a.extractable        ? "CKA_EXTRACTABLE is true"
                      : !a.always_sensitive  ? "CKA_ALWAYS_SENSITIVE is false"
                      : !a.never_extractable ? "CKA_NEVER_EXTRACTABLE is false"
                                             : nullptr;
    if (bad)
        fail(Errc::token, context(label) + ": the token reports " + bad +
                              ": sfts only uses private keys that never leave the token");
}

std::optional<KeyHandle> Session::find_key(const std::string& label, const std::vector<std::uint8_t>& id) {
    if (label.empty() && id.empty()) fail(Errc::invalid_argument, "a key is found by label or id");
    auto lookup = [&](CK_OBJECT_CLASS cls) {
        std::vector<CK_ATTRIBUTE> t = {{CKA_CLASS, &cls, sizeof cls}};
        if (!label.empty()) t.push_back({CKA_LABEL, const_cast<char*>(label.data()), label.size()});
        if (!id.empty()) t.push_back({CKA_ID, const_cast<std::uint8_t*>(id.data()), id.size()});
        return find(t, 2);
    };
    auto privs = lookup(CKO_PRIVATE_KEY);
    if (privs.empty()) return std::nullopt;
    if (privs.size() > 1) fail(Errc::invalid_argument, context(label) + ": more than one private key matches");
    KeyHandle k;
    k.priv = privs[0];
    k.label = label;
    // Read the id back so that a lookup by label alone also knows it.
    CK_ATTRIBUTE a{CKA_ID, nullptr, 0};
    check_rv(token_->module().fn()->C_GetAttributeValue(h_, k.priv, &a, 1), "C_GetAttributeValue(CKA_ID)",
             context(label));
    if (a.ulValueLen > 256) fail(Errc::token, context(label) + ": CKA_ID longer than 256 bytes");
    k.id.resize(a.ulValueLen);
    a.pValue = k.id.data();
    check_rv(token_->module().fn()->C_GetAttributeValue(h_, k.priv, &a, 1), "C_GetAttributeValue(CKA_ID)",
             context(label));
    if (k.label.empty()) {
        CK_ATTRIBUTE l{CKA_LABEL, nullptr, 0};
        if (token_->module().fn()->C_GetAttributeValue(h_, k.priv, &l, 1) == CKR_OK && l.ulValueLen <= 256) {
            k.label.resize(l.ulValueLen);
            l.pValue = k.label.data();
            token_->module().fn()->C_GetAttributeValue(h_, k.priv, &l, 1);
        }
    }
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY;
    std::vector<CK_ATTRIBUTE> t = {{CKA_CLASS, &pub_cls, sizeof pub_cls}, {CKA_ID, k.id.data(), k.id.size()}};
    auto pubs = find(t, 2);
    if (pubs.size() == 1) k.pub = pubs[0];
    return k;
}

KeyAttributes Session::attributes(CK_OBJECT_HANDLE priv) {
    // One attribute at a time: a token that does not know one of them (CKR_ATTRIBUTE_TYPE_INVALID)
    // must not hide the others. An unreadable one keeps its pessimistic default below.
    auto* fn = token_->module().fn();
    auto read = [&](CK_ATTRIBUTE_TYPE type, CK_BBOOL fallback) {
        CK_BBOOL v = fallback;
        CK_ATTRIBUTE a{type, &v, sizeof v};
        CK_RV rv = fn->C_GetAttributeValue(h_, priv, &a, 1);
        if (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_DEVICE_REMOVED ||
            rv == CKR_TOKEN_NOT_PRESENT)
            check_rv(rv, "C_GetAttributeValue", context());
        if (rv != CKR_OK || a.ulValueLen != sizeof v) return fallback;
        return v;
    };
    KeyAttributes a;
    a.token = read(CKA_TOKEN, CK_FALSE);
    a.is_private = read(CKA_PRIVATE, CK_FALSE);
    a.sensitive = read(CKA_SENSITIVE, CK_FALSE);
    a.extractable = read(CKA_EXTRACTABLE, CK_TRUE);
    a.always_sensitive = read(CKA_ALWAYS_SENSITIVE, CK_FALSE);
    a.never_extractable = read(CKA_NEVER_EXTRACTABLE, CK_FALSE);
    a.sign = read(CKA_SIGN, CK_FALSE);
    CK_ATTRIBUTE m{CKA_MODULUS, nullptr, 0};
    if (token_->module().fn()->C_GetAttributeValue(h_, priv, &m, 1) == CKR_OK) a.modulus_bits = m.ulValueLen * 8;
    return a;
}

CK_RV Session::try_read_private_value(CK_OBJECT_HANDLE priv, CK_ATTRIBUTE_TYPE what) {
    std::vector<unsigned char> buf(2048);
    CK_ATTRIBUTE a{what, buf.data(), buf.size()};
    CK_RV rv = token_->module().fn()->C_GetAttributeValue(h_, priv, &a, 1);
    OPENSSL_cleanse(buf.data(), buf.size());
    return rv;
}

ossl::EvpPkeyPtr Session::public_key(const KeyHandle& key) {
    CK_OBJECT_HANDLE obj = key.pub != CK_INVALID_HANDLE ? key.pub : key.priv;
    auto read = [&](CK_ATTRIBUTE_TYPE type) {
        CK_ATTRIBUTE a{type, nullptr, 0};
        check_rv(token_->module().fn()->C_GetAttributeValue(h_, obj, &a, 1), "C_GetAttributeValue",
                 context(key.label));
        if (a.ulValueLen == 0 || a.ulValueLen > 1024) fail(Errc::token, context(key.label) + ": bad RSA public key");
        std::vector<unsigned char> v(a.ulValueLen);
        a.pValue = v.data();
        check_rv(token_->module().fn()->C_GetAttributeValue(h_, obj, &a, 1), "C_GetAttributeValue",
                 context(key.label));
        return v;
    };
    auto n = read(CKA_MODULUS);
    auto e = read(CKA_PUBLIC_EXPONENT);
    ossl::BignumPtr bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
    ossl::BignumPtr bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
    if (!bn_n || !bn_e) ossl::fail_ossl(Errc::crypto, "BN_bin2bn");
    std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>> bld(OSSL_PARAM_BLD_new());
    ossl::check(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()), "OSSL_PARAM_BLD_push_BN");
    ossl::check(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()), "OSSL_PARAM_BLD_push_BN");
    std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>> params(OSSL_PARAM_BLD_to_param(bld.get()));
    ossl::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* pk = nullptr;
    ossl::check(EVP_PKEY_fromdata_init(ctx.get()), "EVP_PKEY_fromdata_init");
    ossl::check(EVP_PKEY_fromdata(ctx.get(), &pk, EVP_PKEY_PUBLIC_KEY, params.get()), "EVP_PKEY_fromdata");
    return ossl::EvpPkeyPtr(pk);
}

void Session::store_certificate(const X509* cert, const std::string& label, const std::vector<std::uint8_t>& id,
                                bool replace) {
    auto der = ossl::to_der(cert);
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    auto existing = find({{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}});
    if (!existing.empty() && !replace)
        fail(Errc::already_exists, context(label) + ": a certificate with this label already exists");

    auto encode_name = [](const X509_NAME* name) {
        int n = i2d_X509_NAME(name, nullptr);
        if (n <= 0) ossl::fail_ossl(Errc::crypto, "i2d_X509_NAME");
        std::vector<unsigned char> v(static_cast<std::size_t>(n));
        unsigned char* p = v.data();
        i2d_X509_NAME(name, &p);
        return v;
    };
    auto subject = encode_name(X509_get_subject_name(cert));
    auto issuer = encode_name(X509_get_issuer_name(cert));
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
    int sn = i2d_ASN1_INTEGER(serial, nullptr);
    std::vector<unsigned char> serial_der(static_cast<std::size_t>(sn));
    unsigned char* sp = serial_der.data();
    i2d_ASN1_INTEGER(serial, &sp);

    std::vector<CK_ATTRIBUTE> t = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_CERTIFICATE_TYPE, &ct, sizeof ct},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &no, sizeof no},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
        {CKA_ID, const_cast<std::uint8_t*>(id.data()), id.size()},
        {CKA_SUBJECT, subject.data(), subject.size()},
        {CKA_ISSUER, issuer.data(), issuer.size()},
        {CKA_SERIAL_NUMBER, serial_der.data(), serial_der.size()},
        {CKA_VALUE, der.data(), der.size()},
    };
    CK_OBJECT_HANDLE obj;
    check_rv(token_->module().fn()->C_CreateObject(h_, t.data(), t.size(), &obj), "C_CreateObject(certificate)",
             context(label));
    // Only after the new one is stored: a failure above leaves the old certificate in place.
    for (CK_OBJECT_HANDLE old : existing) token_->module().fn()->C_DestroyObject(h_, old);
}

ossl::X509Ptr Session::find_certificate(const std::string& label) {
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    auto found = find({{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}}, 2);
    if (found.empty()) return nullptr;
    if (found.size() > 1) fail(Errc::invalid_argument, context(label) + ": more than one certificate matches");
    CK_ATTRIBUTE a{CKA_VALUE, nullptr, 0};
    check_rv(token_->module().fn()->C_GetAttributeValue(h_, found[0], &a, 1), "C_GetAttributeValue(CKA_VALUE)",
             context(label));
    if (a.ulValueLen > 65536) fail(Errc::token, context(label) + ": certificate larger than 64 KiB");
    std::vector<unsigned char> der(a.ulValueLen);
    a.pValue = der.data();
    check_rv(token_->module().fn()->C_GetAttributeValue(h_, found[0], &a, 1), "C_GetAttributeValue(CKA_VALUE)",
             context(label));
    return ossl::x509_from_der(der.data(), der.size());
}

void Session::destroy_objects(const std::string& label) {
    auto found = find({{CKA_LABEL, const_cast<char*>(label.data()), label.size()}}, 16);
    for (CK_OBJECT_HANDLE o : found)
        check_rv(token_->module().fn()->C_DestroyObject(h_, o), "C_DestroyObject", context(label));
}

std::size_t Session::relabel(const std::string& from, const std::string& to) {
    if (to.empty() || to.size() > 64) fail(Errc::invalid_argument, "label must be 1 to 64 bytes");
    if (!find({{CKA_LABEL, const_cast<char*>(to.data()), to.size()}}, 1).empty())
        fail(Errc::already_exists, context(to) + ": objects with this label already exist");
    auto found = find({{CKA_LABEL, const_cast<char*>(from.data()), from.size()}}, 16);
    for (CK_OBJECT_HANDLE o : found) {
        CK_ATTRIBUTE a{CKA_LABEL, const_cast<char*>(to.data()), to.size()};
        check_rv(token_->module().fn()->C_SetAttributeValue(h_, o, &a, 1), "C_SetAttributeValue(CKA_LABEL)", context(from));
    }
    return found.size();
}

}  // namespace sfts::hsm
