// Helpers shared by the auth sources; not part of the public interface.
#pragma once

#include <gsasl.h>
#include <openssl/crypto.h>

#include <array>
#include <cstdint>
#include <exception>
#include <utility>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/secret.hpp"

namespace sfts::auth::detail {

template <auto Fn>
struct CDeleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        if (p) Fn(p);
    }
};

// Memory that gsasl allocated for us (gsasl_step output, base64 and SASLprep results).
using GsaslString = std::unique_ptr<char, CDeleter<gsasl_free>>;

inline void cleanse(std::string& s) noexcept {
    if (s.capacity() > 0) OPENSSL_cleanse(s.data(), s.capacity());
    s.clear();
}
inline void cleanse(std::vector<std::uint8_t>& v) noexcept {
    if (!v.empty()) OPENSSL_cleanse(v.data(), v.size());
    v.clear();
}
template <std::size_t N>
void cleanse(std::array<std::uint8_t, N>& a) noexcept {
    OPENSSL_cleanse(a.data(), a.size());
}

// Wipes a byte buffer when the scope ends, whichever way it ends.
class WipeOnExit {
public:
    explicit WipeOnExit(std::vector<std::uint8_t>& v) noexcept : v_(&v) {}
    ~WipeOnExit() { cleanse(*v_); }
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;

private:
    std::vector<std::uint8_t>* v_;
};

inline std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view chars_of(std::span<const std::uint8_t> b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data);

// Standard base64 with padding (RFC 4648 section 4), as SCRAM and gsasl's properties use.
std::string base64_encode(std::span<const std::uint8_t> data);
// Strict decoding; false on anything that is not canonical base64.
bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out);

// The process-wide gsasl context (gsasl_init once, std::call_once). Its callback dispatches
// to the SessionHandler stored as each session's hook, so concurrent sessions never share state.
Gsasl* gsasl_context();

class SessionHandler {
public:
    virtual ~SessionHandler() = default;
    // Called from inside gsasl_step on the same thread. An exception from property() cannot
    // cross gsasl's C frames: it is kept, the step fails, and rethrow_pending() raises it after
    // gsasl_step has returned.
    int on_property(Gsasl_session* session, Gsasl_property prop) noexcept {
        try {
            return property(session, prop);
        } catch (...) {
            pending_ = std::current_exception();
            return GSASL_AUTHENTICATION_ERROR;
        }
    }
    void rethrow_pending() {
        if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
    }

protected:
    virtual int property(Gsasl_session* session, Gsasl_property prop) = 0;

private:
    std::exception_ptr pending_;
};

// Wipes the properties that can hold key material (gsasl frees them without wiping), then
// gsasl_finish.
struct SessionDeleter {
    void operator()(Gsasl_session* s) const noexcept;
};
using SessionPtr = std::unique_ptr<Gsasl_session, SessionDeleter>;

SessionPtr start_session(bool server, const char* mechanism, SessionHandler* handler);

// One gsasl_step; output copied into a vector. Returns gsasl's rc.
int step(Gsasl_session* s, std::span<const std::uint8_t> input, std::vector<std::uint8_t>& output);

// SASLprep (RFC 4013) through gsasl_saslprep, unassigned code points allowed (see normalize.cpp).
// Returns false if the text is invalid UTF-8, contains NUL, or contains a prohibited character.
bool saslprep(std::string_view in, std::string& out);
bool valid_utf8(std::string_view s) noexcept;

}  // namespace sfts::auth::detail
