#include "sfts/hsm/uri.hpp"

#include <p11-kit/uri.h>

#include <cctype>
#include <memory>

#include "sfts/error.hpp"
#include "sfts/hsm/pkcs11.hpp"

namespace sfts::hsm {

namespace {

struct UriDeleter {
    void operator()(P11KitUri* u) const noexcept { p11_kit_uri_free(u); }
};
using UriPtr = std::unique_ptr<P11KitUri, UriDeleter>;

// PKCS#11 pads fixed-width strings with spaces.
std::string unpad(const unsigned char* s, std::size_t n) {
    std::string out(reinterpret_cast<const char*>(s), n);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
    return out;
}

std::string pct_encode(std::string_view s) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 0xf]);
        }
    }
    return out;
}

}  // namespace

ObjectUri ObjectUri::parse(std::string_view text) {
    if (text.size() > 4096) fail(Errc::limit_exceeded, "PKCS#11 URI longer than 4096 bytes");
    UriPtr uri(p11_kit_uri_new());
    if (!uri) fail(Errc::internal, "p11_kit_uri_new failed");
    std::string s(text);
    int rc = p11_kit_uri_parse(s.c_str(), P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri.get());
    if (rc != P11_KIT_URI_OK)
        fail(Errc::invalid_argument, std::string("bad PKCS#11 URI: ") + p11_kit_uri_message(rc));
    if (p11_kit_uri_get_pin_value(uri.get()) != nullptr || p11_kit_uri_get_pin_source(uri.get()) != nullptr)
        fail(Errc::invalid_argument, "PKCS#11 URI must not carry a PIN (pin-value/pin-source); configure a PIN source instead");
    if (p11_kit_uri_any_unrecognized(uri.get()))
        fail(Errc::invalid_argument, "PKCS#11 URI has attributes sfts does not understand");

    ObjectUri out;
    CK_TOKEN_INFO* ti = p11_kit_uri_get_token_info(uri.get());
    out.token = unpad(ti->label, sizeof ti->label);
    out.manufacturer = unpad(ti->manufacturerID, sizeof ti->manufacturerID);
    out.model = unpad(ti->model, sizeof ti->model);
    out.serial = unpad(ti->serialNumber, sizeof ti->serialNumber);
    if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_LABEL))
        out.object.assign(static_cast<const char*>(a->pValue), a->ulValueLen);
    if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_ID)) {
        auto* p = static_cast<const std::uint8_t*>(a->pValue);
        out.id.assign(p, p + a->ulValueLen);
    }
    return out;
}

std::string ObjectUri::to_string(std::string_view type) const {
    std::string out = "pkcs11:";
    auto add = [&](const char* key, std::string_view value) {
        if (value.empty()) return;
        if (out.back() != ':') out += ';';
        out += key;
        out += '=';
        out += pct_encode(value);
    };
    add("model", model);
    add("manufacturer", manufacturer);
    add("serial", serial);
    add("token", token);
    if (!id.empty()) add("id", std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
    add("object", object);
    add("type", type);
    return out;
}

ObjectUri ObjectUri::with_object(std::string label, std::vector<std::uint8_t> object_id) const {
    ObjectUri u = *this;
    u.object = std::move(label);
    u.id = std::move(object_id);
    return u;
}

}  // namespace sfts::hsm
