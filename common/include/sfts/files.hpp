// Small filesystem helpers whose point is durability: nothing half-written is ever visible.
#pragma once

#include <string>

namespace sfts {

// Writes content to path atomically: a temporary file in the same directory, fsync, rename,
// fsync of the directory. mode applies to the new file. On failure the old file is untouched.
void write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0644);

// Reads a whole regular file of at most max_bytes.
std::string read_file(const std::string& path, std::size_t max_bytes = 1 << 20);

bool file_exists(const std::string& path);

// mkdir -p with the given mode for directories it creates.
void make_dirs(const std::string& path, unsigned mode = 0700);

}  // namespace sfts
