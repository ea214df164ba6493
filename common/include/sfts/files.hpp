// Small filesystem helpers whose point is durability: nothing half-written is ever visible.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

// Reads a file front to back through read-only mappings of `window` bytes at a time, for a
// sender that hashes and sends the bytes straight from the page cache instead of copying them
// into a buffer first (measured: 17-35% faster for the ceiling's sender, docs/benchmarks.md).
// At most one window is mapped, so the mapped pages counted in RSS stay bounded.
//
// A mapped page that vanishes because another process truncated the file would raise SIGBUS;
// here it reads as zeros instead and truncated() turns true: check it after using each piece,
// and never keep bytes read after it turned true. The guard is a process-wide SIGBUS handler
// (installed on first use, and again if someone replaced it) that acts only on faults inside
// the window of a reader of the faulting thread; any other SIGBUS goes to the handler that
// was there before, or the default action.
class MappedReader {
public:
    static constexpr std::uint64_t default_window = std::uint64_t{8} << 20;
    // mapped: mappings, falling back to buffered on a file system that cannot map (ENODEV).
    // buffered: pread() into a buffer of at most 1 MiB, the same pieces and truncation flag.
    enum class Mode { mapped, buffered };

    // fd stays owned by the caller and must stay open while this reader lives. size: the bytes
    // to read (the file's size when it was opened). Error(io) when a window cannot be mapped
    // or read.
    MappedReader(int fd, std::uint64_t size, std::uint64_t window = default_window, Mode mode = Mode::mapped);
    ~MappedReader();
    MappedReader(const MappedReader&) = delete;
    MappedReader& operator=(const MappedReader&) = delete;

    // The next piece, at most max bytes and never across a window's end; empty once size
    // bytes have been read.
    std::span<const std::uint8_t> next(std::size_t max);
    // Some page of the current window vanished (the file was truncated under us).
    bool truncated() const noexcept;
    std::uint64_t offset() const noexcept { return offset_; }

    struct Guard;  // what the SIGBUS handler sees (files.cpp)

private:
    void map_window();
    void unmap_window() noexcept;

    int fd_;
    std::uint64_t size_;
    std::uint64_t window_;
    std::uint64_t offset_ = 0;  // bytes handed out so far
    std::uint8_t* map_ = nullptr;
    std::uint64_t map_offset_ = 0, map_len_ = 0;
    std::unique_ptr<Guard> guard_;
    bool buffered_;
    bool truncated_ = false;  // sticky: a window once hit stays reported after the next map
    static constexpr std::uint64_t kBufferedWindow = std::uint64_t{1} << 20;
    std::vector<std::uint8_t> buffer_;  // buffered mode only
};

}  // namespace sfts
