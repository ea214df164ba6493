// One row of a pane: a local file or directory, or a file on the server.
#pragma once

#include <cstdint>
#include <string>

namespace sfts::tui {

struct Entry {
    std::string name;
    std::uint64_t size = 0;
    std::int64_t mtime_s = 0;  // seconds since the epoch
    std::string uploader;      // remote files only
    bool dir = false;          // local directories (and "..")
    bool operator==(const Entry&) const = default;
};

}  // namespace sfts::tui
