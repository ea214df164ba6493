// Server side of SCRAM-SHA-256(-PLUS). GNU SASL parses the messages and checks the proof; we
// add what it leaves to the application: the gs2 header policy (RFC 5802 section 6: no
// downgrade, no binding under the non-PLUS name, tls-exporter only, no authzid), a decoy
// verifier for unknown users, and bounds on the input.
#include <cstring>
#include <exception>

#include "internal.hpp"
#include "sfts/auth/hmac.hpp"
#include "sfts/auth/scram.hpp"
#include "sfts/error.hpp"

namespace sfts::auth {

namespace {

constexpr std::size_t kMaxMessage = 4096;  // docs/protocol.md 4.3: sasl bytes+<4096>
constexpr std::size_t kMinDecoyKey = 16;
constexpr const char* kFailed = "authentication failed";

bool bad_message(std::span<const std::uint8_t> m) {
    return m.empty() || m.size() > kMaxMessage || std::memchr(m.data(), 0, m.size()) != nullptr;
}

// The client-first policy: gs2 header and strict message shape. Returns an error sentence,
// or nullptr if acceptable.
const char* check_client_first(bool plus, std::string_view msg) {
    std::size_t comma1 = msg.find(',');
    if (comma1 == std::string_view::npos) return "malformed SCRAM client-first message";
    std::string_view flag = msg.substr(0, comma1);
    std::size_t comma2 = msg.find(',', comma1 + 1);
    if (comma2 == std::string_view::npos) return "malformed SCRAM client-first message";
    std::string_view authzid = msg.substr(comma1 + 1, comma2 - comma1 - 1);
    if (!authzid.empty()) return "SCRAM authorization identity (a=) is not supported";
    // client-first-message-bare: exactly "n=" saslname ",r=" nonce. No "m=" (mandatory
    // extensions, RFC 5802 5.1: we support none) and no optional extensions either.
    std::string_view bare = msg.substr(comma2 + 1);
    std::size_t comma3 = bare.find(',');
    if (!bare.starts_with("n=") || comma3 == std::string_view::npos) return "malformed SCRAM client-first message";
    std::string_view saslname = bare.substr(2, comma3 - 2);
    std::string_view nonce_attr = bare.substr(comma3 + 1);
    if (!nonce_attr.starts_with("r=") || nonce_attr.find(',') != std::string_view::npos)
        return "malformed SCRAM client-first message";
    // RFC 5802 5.1: '=' only as "=2C" or "=3D"; anything else must fail.
    for (std::size_t at = saslname.find('='); at != std::string_view::npos; at = saslname.find('=', at + 1)) {
        std::string_view esc = saslname.substr(at, 3);
        if (esc != "=2C" && esc != "=3D") return "malformed SCRAM client-first message";
    }
    if (plus) {
        if (flag != "p=tls-exporter") return "SCRAM-SHA-256-PLUS requires channel binding type tls-exporter";
        return nullptr;
    }
    if (flag == "n") return nullptr;
    if (flag == "y")
        return "client supports channel binding but chose SCRAM-SHA-256 although the server offers "
               "SCRAM-SHA-256-PLUS: possible downgrade, refused (RFC 5802 section 6)";
    if (flag.starts_with("p=")) return "channel binding requested with the non-PLUS mechanism";
    return "malformed SCRAM client-first message";
}

ScramVerifier decoy_for(std::span<const std::uint8_t> key, const std::string& user, std::uint32_t iterations) {
    // Deterministic in (server key, user name): the same salt on every attempt, as a real
    // account would show, and keys no password can match (SHA-256 preimage).
    auto derive = [&](std::string_view domain) {
        std::vector<std::uint8_t> in(domain.begin(), domain.end());
        in.push_back(0);
        in.insert(in.end(), user.begin(), user.end());
        return hmac_sha256(key, in);
    };
    ScramVerifier v;
    auto salt = derive("sfts-scram-decoy-salt-v1");
    v.salt.assign(salt.begin(), salt.begin() + 16);
    v.iterations = iterations;
    auto stored = derive("sfts-scram-decoy-stored-key-v1");
    auto server = derive("sfts-scram-decoy-server-key-v1");
    v.stored_key.assign(stored.begin(), stored.end());
    v.server_key.assign(server.begin(), server.end());
    return v;
}

}  // namespace

struct ScramServer::Impl final : detail::SessionHandler {
    enum class Step { first, final, done, failed };

    Lookup lookup;
    std::vector<std::uint8_t> channel_binding;
    std::vector<std::uint8_t> decoy_key;
    std::uint32_t decoy_iterations = kDefaultScramIterations;
    detail::SessionPtr session;
    Step step = Step::first;
    bool plus = false;
    bool bound = false;
    bool decoy = false;
    bool verifier_loaded = false;
    std::string username;
    ScramVerifier verifier;

    ~Impl() override {
        detail::cleanse(verifier.server_key);
        detail::cleanse(decoy_key);
    }

    int load_verifier(Gsasl_session* s) {
        const char* authid = gsasl_property_fast(s, GSASL_AUTHID);
        if (!authid) return GSASL_NO_AUTHID;
        std::string prepped;
        if (!detail::saslprep(authid, prepped) || prepped.empty()) return GSASL_AUTHENTICATION_ERROR;
        username = std::move(prepped);
        std::optional<ScramVerifier> found = lookup(username);
        if (found) {
            if (found->salt.empty() || found->iterations == 0 || found->stored_key.size() != 32 ||
                found->server_key.size() != 32)
                fail(Errc::integrity, "stored SCRAM verifier of user '" + username + "' is malformed");
            verifier = std::move(*found);
        } else {
            verifier = decoy_for(decoy_key, username, decoy_iterations);
            decoy = true;
        }
        verifier_loaded = true;
        std::string iter = std::to_string(verifier.iterations);
        std::string salt = detail::base64_encode(verifier.salt);
        std::string stored = detail::base64_encode(verifier.stored_key);
        std::string server = detail::base64_encode(verifier.server_key);
        int rc = GSASL_OK;
        for (auto [prop, value] : {std::pair{GSASL_SCRAM_ITER, &iter}, std::pair{GSASL_SCRAM_SALT, &salt},
                                   std::pair{GSASL_SCRAM_STOREDKEY, &stored},
                                   std::pair{GSASL_SCRAM_SERVERKEY, &server}})
            if (rc == GSASL_OK) rc = gsasl_property_set(s, prop, value->c_str());
        detail::cleanse(stored);
        detail::cleanse(server);
        return rc;
    }

    int property(Gsasl_session* s, Gsasl_property prop) override {
        switch (prop) {
            case GSASL_SCRAM_ITER:
            case GSASL_SCRAM_SALT:
            case GSASL_SCRAM_STOREDKEY:
            case GSASL_SCRAM_SERVERKEY:
                if (verifier_loaded) return GSASL_NO_CALLBACK;  // already set: gsasl would not ask
                return load_verifier(s);
            default:
                // Never the password (we keep none), never tls-unique.
                return GSASL_NO_CALLBACK;
        }
    }
};

ScramServer::ScramServer(Lookup lookup, std::vector<std::uint8_t> channel_binding, std::vector<std::uint8_t> decoy_key,
                         std::uint32_t decoy_iterations)
    : impl_(std::make_unique<Impl>()) {
    if (!lookup) fail(Errc::invalid_argument, "ScramServer needs a verifier lookup");
    if (channel_binding.empty() || channel_binding.size() > 64)
        fail(Errc::invalid_argument, "ScramServer needs the connection's tls-exporter channel binding");
    if (decoy_key.size() < kMinDecoyKey) fail(Errc::invalid_argument, "ScramServer decoy key must be at least 16 bytes");
    impl_->lookup = std::move(lookup);
    impl_->channel_binding = std::move(channel_binding);
    if (decoy_iterations < 4096) fail(Errc::invalid_argument, "ScramServer decoy iteration count below 4096");
    impl_->decoy_key = std::move(decoy_key);
    impl_->decoy_iterations = decoy_iterations;
}

ScramServer::~ScramServer() = default;

std::vector<std::uint8_t> ScramServer::client_first(std::string_view mechanism, std::span<const std::uint8_t> message) {
    Impl& m = *impl_;
    if (m.step != Impl::Step::first) fail(Errc::auth_failed, "SCRAM exchange out of order");
    m.step = Impl::Step::failed;  // until this step succeeds
    if (mechanism == kMechanismPlus)
        m.plus = true;
    else if (mechanism != kMechanism)
        fail(Errc::auth_failed, "unsupported SASL mechanism");
    if (bad_message(message)) fail(Errc::auth_failed, "malformed SCRAM client-first message");
    if (const char* why = check_client_first(m.plus, detail::chars_of(message))) fail(Errc::auth_failed, why);

    m.session = detail::start_session(true, m.plus ? kMechanismPlus : kMechanism, &m);
    // Set even for the non-PLUS mechanism: gsasl then refuses the "y" flag as well (our own
    // check above comes first).
    std::string cb = detail::base64_encode(m.channel_binding);
    if (gsasl_property_set(m.session.get(), GSASL_CB_TLS_EXPORTER, cb.c_str()) != GSASL_OK)
        fail(Errc::internal, "gsasl_property_set failed");

    std::vector<std::uint8_t> out;
    int rc = detail::step(m.session.get(), message, out);
    m.rethrow_pending();
    if (rc != GSASL_NEEDS_MORE || out.empty() || !m.verifier_loaded)
        fail(Errc::auth_failed, "malformed SCRAM client-first message");
    m.step = Impl::Step::final;
    return out;
}

std::vector<std::uint8_t> ScramServer::client_final(std::span<const std::uint8_t> message) {
    Impl& m = *impl_;
    if (m.step != Impl::Step::final) fail(Errc::auth_failed, "SCRAM exchange out of order");
    m.step = Impl::Step::failed;
    // One message for every failure here (malformed, wrong binding, wrong proof, unknown user):
    // the peer learns nothing about which.
    if (bad_message(message)) fail(Errc::auth_failed, kFailed);
    std::vector<std::uint8_t> out;
    int rc = detail::step(m.session.get(), message, out);
    m.rethrow_pending();
    if (rc != GSASL_OK || out.empty() || m.decoy) fail(Errc::auth_failed, kFailed);
    m.bound = m.plus;  // gsasl compared c= with gs2 header + our exporter value
    m.step = Impl::Step::done;
    return out;
}

const std::string& ScramServer::username() const { return impl_->username; }
bool ScramServer::channel_bound() const { return impl_->step == Impl::Step::done && impl_->bound; }
const ScramVerifier& ScramServer::verifier() const { return impl_->verifier; }

}  // namespace sfts::auth
