// Client side of SCRAM-SHA-256(-PLUS). gsasl builds and parses the messages; we give it
// SaltedPassword (never the password) when it asks, after checking the server's iteration
// count, so that the password's normalisation is ours and the same as make_verifier's.
#include <charconv>
#include <cstring>
#include <exception>

#include "internal.hpp"
#include "sfts/auth/password_policy.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/error.hpp"
#include "sfts/ossl.hpp"

namespace sfts::auth {

namespace {

constexpr std::size_t kMaxMessage = 4096;
// A fake or hostile server could ask for few iterations (cheap offline guessing from the proof)
// or billions (denial of service); RFC 7677 section 4 says at least 4096.
constexpr std::uint32_t kMinIterations = 4096;
constexpr std::uint32_t kMaxIterations = 10'000'000;

bool bad_message(std::span<const std::uint8_t> m) {
    return m.empty() || m.size() > kMaxMessage || std::memchr(m.data(), 0, m.size()) != nullptr;
}

}  // namespace

struct ScramClient::Impl final : detail::SessionHandler {
    enum class Step { first, final, verify, done, failed };

    std::string username;
    Secret password;  // as typed; salted_password() normalises it, exactly as make_verifier does
    std::vector<std::uint8_t> channel_binding;
    detail::SessionPtr session;
    Step step = Step::first;
    std::vector<std::uint8_t> salted;
    std::vector<std::uint8_t> server_salt;  // of server-first, kept for later proofs
    std::uint32_t server_iterations = 0;

    ~Impl() override {
        detail::cleanse(salted);
    }

    int give_salted_password(Gsasl_session* s) {
        const char* iter_text = gsasl_property_fast(s, GSASL_SCRAM_ITER);
        const char* salt_text = gsasl_property_fast(s, GSASL_SCRAM_SALT);
        if (!iter_text || !salt_text) return GSASL_AUTHENTICATION_ERROR;
        std::uint32_t iter = 0;
        std::string_view it(iter_text);
        auto [end, ec] = std::from_chars(it.data(), it.data() + it.size(), iter);
        if (ec != std::errc{} || end != it.data() + it.size())
            fail(Errc::auth_failed, "malformed SCRAM server-first message");
        if (iter < kMinIterations || iter > kMaxIterations)
            fail(Errc::auth_failed, "server asked for " + std::string(it) +
                                        " PBKDF2 iterations; accepted are 4096 to 10000000");
        std::vector<std::uint8_t> salt;
        if (!detail::base64_decode(salt_text, salt) || salt.empty())
            fail(Errc::auth_failed, "malformed SCRAM server-first message");
        detail::cleanse(salted);
        salted = auth::salted_password(password, salt, iter);
        server_salt = salt;
        server_iterations = iter;
        std::string hex = ossl::hex(salted.data(), salted.size());
        int rc = gsasl_property_set(s, GSASL_SCRAM_SALTED_PASSWORD, hex.c_str());
        detail::cleanse(hex);
        return rc;
    }

    int property(Gsasl_session* s, Gsasl_property prop) override {
        if (prop == GSASL_SCRAM_SALTED_PASSWORD) return give_salted_password(s);
        // Not AUTHZID, not tls-unique, never GSASL_PASSWORD: the password stays with us.
        return GSASL_NO_CALLBACK;
    }
};

ScramClient::ScramClient(std::string username, const Secret& password, std::vector<std::uint8_t> channel_binding)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    if (username.empty() || username.find('\0') != std::string::npos)
        fail(Errc::invalid_argument, "SCRAM user name must not be empty");
    m.username = std::move(username);
    normalize_password(password);  // reject a prohibited password now, before any message
    m.password = password.clone();
    m.channel_binding = std::move(channel_binding);
    m.session = detail::start_session(false, mechanism(), &m);
    if (gsasl_property_set(m.session.get(), GSASL_AUTHID, m.username.c_str()) != GSASL_OK)
        fail(Errc::internal, "gsasl_property_set failed");
    if (!m.channel_binding.empty()) {
        std::string cb = detail::base64_encode(m.channel_binding);
        if (gsasl_property_set(m.session.get(), GSASL_CB_TLS_EXPORTER, cb.c_str()) != GSASL_OK)
            fail(Errc::internal, "gsasl_property_set failed");
    }
}

ScramClient::~ScramClient() = default;

const char* ScramClient::mechanism() const { return impl_->channel_binding.empty() ? kMechanism : kMechanismPlus; }

std::vector<std::uint8_t> ScramClient::client_first() {
    Impl& m = *impl_;
    if (m.step != Impl::Step::first) fail(Errc::auth_failed, "SCRAM exchange out of order");
    m.step = Impl::Step::failed;
    std::vector<std::uint8_t> out;
    int rc = detail::step(m.session.get(), {}, out);
    m.rethrow_pending();
    if (rc != GSASL_NEEDS_MORE || out.empty())
        fail(Errc::invalid_argument, std::string("cannot start SCRAM (is the user name valid?): ") + gsasl_strerror(rc));
    m.step = Impl::Step::final;
    return out;
}

std::vector<std::uint8_t> ScramClient::client_final(std::span<const std::uint8_t> server_first) {
    Impl& m = *impl_;
    if (m.step != Impl::Step::final) fail(Errc::auth_failed, "SCRAM exchange out of order");
    m.step = Impl::Step::failed;
    if (bad_message(server_first)) fail(Errc::auth_failed, "malformed SCRAM server-first message");
    std::vector<std::uint8_t> out;
    int rc = detail::step(m.session.get(), server_first, out);
    m.rethrow_pending();
    if (rc != GSASL_NEEDS_MORE || out.empty() || m.salted.empty())
        fail(Errc::auth_failed, "malformed SCRAM server-first message");
    m.step = Impl::Step::verify;
    return out;
}

void ScramClient::verify_server_final(std::span<const std::uint8_t> server_final) {
    Impl& m = *impl_;
    if (m.step != Impl::Step::verify) fail(Errc::auth_failed, "SCRAM exchange out of order");
    m.step = Impl::Step::failed;
    if (bad_message(server_final)) fail(Errc::auth_failed, "malformed SCRAM server-final message");
    std::vector<std::uint8_t> out;
    int rc = detail::step(m.session.get(), server_final, out);
    m.rethrow_pending();
    if (rc != GSASL_OK)
        fail(Errc::auth_failed,
             "the server's SCRAM signature is wrong: it does not hold this account's verifier (impostor?)");
    m.step = Impl::Step::done;
}

const std::vector<std::uint8_t>& ScramClient::salted_password() const { return impl_->salted; }
const std::vector<std::uint8_t>& ScramClient::salt() const { return impl_->server_salt; }
std::uint32_t ScramClient::iterations() const { return impl_->server_iterations; }

}  // namespace sfts::auth
