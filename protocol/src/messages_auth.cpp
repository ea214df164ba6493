#include "sfts/protocol/messages_auth.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {
namespace {

Bytes encode_sasl(ByteView sasl) {
    Writer w;
    w.nonempty_bytes(sasl, max_sasl_bytes, "sasl message");
    return std::move(w).take();
}

Bytes decode_sasl(ByteView body) {
    Reader r(body);
    Bytes sasl = fields::to_bytes(r.nonempty_bytes(max_sasl_bytes, "sasl message"));
    r.expect_end();
    return sasl;
}

}  // namespace

Bytes ScramClientFirst::encode() const {
    Writer w;
    w.string(mechanism, max_mechanism_bytes, TextRule::name, "mechanism");
    w.nonempty_bytes(sasl, max_sasl_bytes, "sasl message");
    return std::move(w).take();
}

ScramClientFirst ScramClientFirst::decode(ByteView body) {
    Reader r(body);
    ScramClientFirst m;
    m.mechanism = std::string(r.string(max_mechanism_bytes, TextRule::name, "mechanism"));
    m.sasl = fields::to_bytes(r.nonempty_bytes(max_sasl_bytes, "sasl message"));
    r.expect_end();
    return m;
}

Bytes ScramServerFirst::encode() const { return encode_sasl(sasl); }
ScramServerFirst ScramServerFirst::decode(ByteView body) { return {decode_sasl(body)}; }
Bytes ScramClientFinal::encode() const { return encode_sasl(sasl); }
ScramClientFinal ScramClientFinal::decode(ByteView body) { return {decode_sasl(body)}; }
Bytes ScramServerFinal::encode() const { return encode_sasl(sasl); }
ScramServerFinal ScramServerFinal::decode(ByteView body) { return {decode_sasl(body)}; }

Bytes SetInitialPassword::encode() const {
    Writer w;
    w.reserve(4 + password.size());
    w.string(password.view(), max_password_bytes, TextRule::name, "password");
    return std::move(w).take();
}

SetInitialPassword SetInitialPassword::decode(ByteView body) {
    Reader r(body);
    SetInitialPassword m;
    m.password = Secret(r.string(max_password_bytes, TextRule::name, "password"));
    r.expect_end();
    return m;
}

}  // namespace sfts::proto
