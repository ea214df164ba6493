#include <string_view>

#include "sfts/protocol/limits.hpp"
#include "sfts/protocol/text.hpp"
#include "sfts/storage/file_store.hpp"

namespace sfts::storage {

static_assert(kMaxFilenameBytes == proto::max_filename_bytes);

// The first of two fences (the second is opening beneath the directory fd without following
// links): the wire's `filename` rule, so whatever the codec accepts is storable and nothing
// else is, plus our reserved prefix so a client can never name, read or clobber a temporary.
bool valid_filename(std::string_view name) {
    if (name.size() > kMaxFilenameBytes) return false;
    if (!proto::text_problem(name, proto::TextRule::filename).empty()) return false;
    return !name.starts_with(kReservedPrefix);
}

}  // namespace sfts::storage
