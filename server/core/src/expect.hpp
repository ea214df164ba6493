// The next message must be M; anything else the state machine let through is a protocol error.
#pragma once

#include <variant>

#include "sfts/error.hpp"
#include "sfts/protocol/message.hpp"

namespace sfts::server {

template <typename M>
M expect(proto::Message m) {
    if (auto* p = std::get_if<M>(&m)) return std::move(*p);
    fail(Errc::protocol, "unexpected message");
}

}  // namespace sfts::server
