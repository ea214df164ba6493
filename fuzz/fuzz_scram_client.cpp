// libFuzzer harness for the client side of SCRAM-SHA-256(-PLUS) login (auth::ScramClient, which
// drives GNU SASL): arbitrary server-first and server-final messages, as a fake or hostile server
// sends them (the client has verified the server's certificate, but the server may be rogue).
//
// Input: byte 0 bit 0 picks PLUS (with a tls-exporter value) or plain SCRAM-SHA-256; the rest is
// the server-first message, then NUL, then the server-final message. The harness replaces "@R"
// in server-first with the client's nonce and "@V" in server-final with the correct server
// signature, which a fuzzer cannot guess.
//
// Invariants: every refusal is Error(auth_failed); server-first is accepted only with a nonce
// that extends ours and an iteration count within 4096..10^7; the client's proof is RFC 5802's
// (checked by the oracle); server-final is accepted exactly when its v= is the right signature.
// Inputs asking for more than 100000 iterations are skipped: the 10^7 bound is policy (unit
// tests check it) and each of those executions would take seconds.
#include <charconv>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "scram_oracle.hpp"

namespace {

using namespace sfts;
using namespace sfts::fuzz::scram;
using sfts::fuzz::crash;

const std::vector<std::uint8_t> kExporter(32, 0x42);

std::span<const std::uint8_t> bytes(std::string_view s) { return auth::detail::bytes_of(s); }

std::string str(const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool plus = (data[0] & 1) != 0;
    const std::string_view rest = sfts::fuzz::chars({data + 1, size - 1});
    const std::size_t nul = rest.find('\0');
    std::string sf(rest.substr(0, nul));

    auth::ScramClient client(std::string(kUser), Secret(kPassword), plus ? kExporter : std::vector<std::uint8_t>{});
    const std::string cfirst = str(client.client_first());
    const std::string bare = cfirst.substr(cfirst.find(",,") + 2);
    const std::string client_nonce = attr(bare, 'r');
    replace_all(sf, "@R", client_nonce);
    {
        const std::string i = attr(sf, 'i');
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(i.data(), i.data() + i.size(), n);
        if (ec == std::errc::result_out_of_range || (ec == std::errc{} && n > 100000)) return 0;
    }

    std::string cfinal;
    if (!sfts::fuzz::accepted({Errc::auth_failed}, [&] { cfinal = str(client.client_final(bytes(sf))); }))
        return 0;

    const std::string r = attr(sf, 'r');
    if (!r.starts_with(client_nonce)) crash("server-first accepted with a nonce that does not extend ours");
    const std::string i = attr(sf, 'i');
    unsigned long iter = 0;
    auto [end, ec] = std::from_chars(i.data(), i.data() + i.size(), iter);
    if (ec != std::errc{} || end != i.data() + i.size() || iter < 4096 || iter > 10'000'000)
        crash("server-first accepted with an iteration count out of policy");
    if (attr(cfinal, 'r') != r) crash("client-final does not echo the server's nonce");

    const std::vector<std::uint8_t>& salted = client.salted_password();
    std::vector<std::uint8_t> salt;
    if (!auth::detail::base64_decode(attr(sf, 's'), salt)) crash("server-first accepted with a bad salt");
    if (iter == 4096 && salted != auth::salted_password(Secret(kPassword), salt, 4096))
        crash("SaltedPassword is not PBKDF2(password, salt, i)");
    const Keys keys = keys_from(salted);
    const std::size_t p_at = cfinal.rfind(",p=");
    if (p_at == std::string::npos) crash("client-final has no proof");
    const std::string auth_message = bare + "," + sf + "," + cfinal.substr(0, p_at);
    if (cfinal.substr(p_at + 3) != client_proof(keys, auth_message)) crash("client proof is not RFC 5802's");

    if (nul == std::string_view::npos) return 0;
    std::string sfinal(rest.substr(nul + 1));
    const std::string expected = server_signature(keys, auth_message);
    replace_all(sfinal, "@V", expected);
    const bool ok = sfts::fuzz::accepted({Errc::auth_failed}, [&] { client.verify_server_final(bytes(sfinal)); });
    if (ok) sfts::fuzz::note("server-final accepted");
    if (ok && attr(sfinal, 'v') != expected) crash("server-final accepted with a wrong signature");
    if (!ok && sfinal == "v=" + expected) crash("the correct server-final was refused");
    return 0;
}
