#include "sfts/protocol/bytes.hpp"

#include <openssl/crypto.h>

namespace sfts::proto {

void wipe(Bytes& b) noexcept {
    // The whole capacity: a longer earlier content may linger past size().
    if (b.capacity() > 0) OPENSSL_cleanse(b.data(), b.capacity());
    b.clear();
}

}  // namespace sfts::proto
