// Small filesystem helpers whose point is durability: nothing half-written is ever visible.
#pragma once

#include <cstdint>
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

// Bounds the dirty pages of a file written front to back, so that the fsync that makes it
// durable at the end finds little left to do: every `window` bytes it starts writeback of
// the newest window (sync_file_range WRITE) and waits for the window before it, so at most two
// windows are ever dirty and the disk works while the data still arrives. It only schedules:
// durability still comes from the final fsync, which also reports any write error.
class WritebackWindow {
public:
    explicit WritebackWindow(std::uint64_t window = std::uint64_t{32} << 20) noexcept : window_(window) {}
    // Call after each write, with the file's total bytes written so far.
    void wrote(int fd, std::uint64_t total) noexcept;

private:
    std::uint64_t window_;
    std::uint64_t started_ = 0;  // writeback started for [0, started_)
    std::uint64_t waited_ = 0;   // and finished for [0, waited_)
};

}  // namespace sfts
