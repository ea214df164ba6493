// libFuzzer harness for the server side of SCRAM-SHA-256(-PLUS) login (auth::ScramServer, which
// drives GNU SASL): arbitrary client-first and client-final messages, as a client that finished
// the TLS handshake sends them.
//
// Input: byte 0 bit 0 picks the mechanism (SCRAM-SHA-256-PLUS or SCRAM-SHA-256); the rest is the
// client-first message, then NUL, then the client-final message (none when there is no NUL).
// In client-final the harness replaces "@R" with the nonce the server chose, "@C" with the
// correct channel binding (base64 of the gs2 header + the tls-exporter value) and then "@P"
// with the correct proof for the password of user "user": random bytes cannot guess these, and
// without them GNU SASL's parser stops at the first comparison.
//
// Invariants: every refusal is Error(auth_failed); client-first is accepted only in the shape the
// policy allows; client-final succeeds only for the known user, with the server's nonce, the
// right binding and the right proof over the actual message (checked by the oracle, not by
// gsasl), and the server-final's signature is the RFC 5802 one.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.hpp"
#include "scram_oracle.hpp"

namespace {

using namespace sfts;
using namespace sfts::fuzz::scram;
using sfts::fuzz::crash;

const std::vector<std::uint8_t> kExporter(32, 0x42);
const std::vector<std::uint8_t> kDecoyKey(32, 0x17);

struct Site {
    auth::ScramVerifier verifier;
    Keys keys;
};

const Site& site() {
    static const Site s = [] {
        Site x;
        const std::vector<std::uint8_t> salt(16, 0x5a);
        x.keys = keys_from(auth::salted_password(Secret(kPassword), salt, kIterations));
        x.verifier = {salt, kIterations, x.keys.stored_key, x.keys.server_key};
        return x;
    }();
    return s;
}

std::span<const std::uint8_t> bytes(std::string_view s) { return auth::detail::bytes_of(s); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool plus = (data[0] & 1) != 0;
    const std::string_view rest = sfts::fuzz::chars({data + 1, size - 1});
    const std::size_t nul = rest.find('\0');
    const std::string_view first = rest.substr(0, nul);
    const std::optional<std::string> final_template =
        nul == std::string_view::npos ? std::nullopt : std::optional<std::string>(rest.substr(nul + 1));

    auth::ScramServer server([](const std::string& user) -> std::optional<auth::ScramVerifier> {
        if (user == kUser) return site().verifier;
        return std::nullopt;
    }, kExporter, kDecoyKey, kIterations);

    std::vector<std::uint8_t> server_first;
    if (!sfts::fuzz::accepted({Errc::auth_failed}, [&] {
            server_first = server.client_first(plus ? auth::kMechanismPlus : auth::kMechanism, bytes(first));
        }))
        return 0;

    // Accepted: the shape the policy promises (gs2 header, no authzid, n= and r= only).
    const std::string_view gs2_flag = first.substr(0, first.find(','));
    if (plus ? gs2_flag != "p=tls-exporter" : gs2_flag != "n") crash("client-first accepted with a wrong gs2 flag");
    if (!first.substr(gs2_flag.size()).starts_with(",,n=")) crash("client-first accepted with an authzid or no n=");
    const std::string_view bare = first.substr(gs2_flag.size() + 2);
    const std::string sf = std::string(sfts::fuzz::chars(server_first));
    const std::string nonce = attr(sf, 'r');
    if (nonce.empty() || !nonce.starts_with(attr(bare, 'r'))) crash("server nonce does not extend the client's");

    if (!final_template) return 0;
    std::string cf = *final_template;
    std::string cbind(first.substr(0, gs2_flag.size() + 2));
    if (plus) cbind.append(kExporter.begin(), kExporter.end());
    replace_all(cf, "@R", nonce);
    replace_all(cf, "@C", auth::detail::base64_encode(bytes(cbind)));
    const std::size_t p_at = cf.rfind(",p=");
    const std::string without_proof = cf.substr(0, p_at);
    const std::string auth_message = std::string(bare) + "," + sf + "," + without_proof;
    const std::string proof = client_proof(site().keys, auth_message);
    replace_all(cf, "@P", proof);
    const std::size_t proof_at = cf.rfind(",p=");

    std::vector<std::uint8_t> server_final;
    const bool ok = sfts::fuzz::accepted({Errc::auth_failed}, [&] { server_final = server.client_final(bytes(cf)); });
    const bool known = server.username() == kUser;
    const std::string canonical =
        "c=" + auth::detail::base64_encode(bytes(cbind)) + ",r=" + nonce + ",p=" + proof;
    if (ok) {
        sfts::fuzz::note("login succeeded");
        if (!known) crash("login succeeded for an unknown user");
        if (proof_at == std::string::npos || cf.substr(proof_at + 3) != proof ||
            cf.substr(0, proof_at) != without_proof) crash("login succeeded with a wrong proof");
        if (attr(cf, 'c') != auth::detail::base64_encode(bytes(cbind))) crash("login succeeded with a wrong binding");
        if (attr(cf, 'r') != nonce) crash("login succeeded with a wrong nonce");
        if (server.channel_bound() != plus) crash("channel_bound() wrong");
        if (sfts::fuzz::chars(server_final) != "v=" + server_signature(site().keys, auth_message))
            crash("server-final signature is not RFC 5802's");
    } else if (known && cf == canonical) {
        crash("the correct client-final was refused");
    }
    return 0;
}
