#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>
#include <mutex>

#include "internal.hpp"
#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::auth::detail {

namespace {

int dispatch(Gsasl*, Gsasl_session* session, Gsasl_property prop) {
    if (!session) return GSASL_NO_CALLBACK;
    auto* handler = static_cast<SessionHandler*>(gsasl_session_hook_get(session));
    if (!handler) return GSASL_NO_CALLBACK;
    return handler->on_property(session, prop);
}

using ContextPtr = std::unique_ptr<Gsasl, CDeleter<gsasl_done>>;

}  // namespace

Gsasl* gsasl_context() {
    static std::once_flag once;
    static ContextPtr ctx;
    std::call_once(once, [] {
        if (!gsasl_check_version(GSASL_VERSION))
            fail(Errc::unavailable, "libgsasl is older than the headers sfts was built with");
        Gsasl* raw = nullptr;
        int rc = gsasl_init(&raw);
        if (rc != GSASL_OK) fail(Errc::unavailable, std::string("gsasl_init: ") + gsasl_strerror(rc));
        ctx.reset(raw);
        gsasl_callback_set(raw, dispatch);
    });
    return ctx.get();
}

void SessionDeleter::operator()(Gsasl_session* s) const noexcept {
    if (!s) return;
    for (Gsasl_property p : {GSASL_PASSWORD, GSASL_SCRAM_SALTED_PASSWORD, GSASL_SCRAM_SERVERKEY,
                             GSASL_SCRAM_STOREDKEY}) {
        // gsasl_property_fast returns the session's own heap copy; wipe it before it is freed.
        if (const char* v = gsasl_property_fast(s, p)) OPENSSL_cleanse(const_cast<char*>(v), std::strlen(v));
    }
    gsasl_finish(s);
}

SessionPtr start_session(bool server, const char* mechanism, SessionHandler* handler) {
    Gsasl* ctx = gsasl_context();
    Gsasl_session* raw = nullptr;
    int rc = server ? gsasl_server_start(ctx, mechanism, &raw) : gsasl_client_start(ctx, mechanism, &raw);
    if (rc != GSASL_OK)
        fail(Errc::unavailable, std::string("gsasl cannot start ") + mechanism + ": " + gsasl_strerror(rc));
    SessionPtr s(raw);
    gsasl_session_hook_set(raw, handler);
    return s;
}

int step(Gsasl_session* s, std::span<const std::uint8_t> input, std::vector<std::uint8_t>& output) {
    char* out = nullptr;
    std::size_t out_len = 0;
    const char* in = input.empty() ? "" : reinterpret_cast<const char*>(input.data());
    int rc = gsasl_step(s, in, input.size(), &out, &out_len);
    GsaslString owned(out);
    output.clear();
    if (out && out_len > 0) {
        auto* b = reinterpret_cast<const std::uint8_t*>(out);
        output.assign(b, b + out_len);
    }
    return rc;
}

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    if (!EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) || len != out.size())
        ossl::fail_ossl(Errc::crypto, "SHA-256");
    return out;
}

std::string base64_encode(std::span<const std::uint8_t> data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out) {
    out.clear();
    if (text.size() % 4 != 0) return false;
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') ++pad;
    if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
    out.resize(text.size() / 4 * 3);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
        out.clear();
        return false;
    }
    out.resize(out.size() - pad);
    // Reject non-canonical text (stray '=' inside, unused bits set) by re-encoding.
    if (base64_encode(out) != text) {
        out.clear();
        return false;
    }
    return true;
}

}  // namespace sfts::auth::detail
