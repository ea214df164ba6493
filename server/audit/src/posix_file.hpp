// Owned descriptors, flock and exact-range reads: the POSIX pieces the log and the verifier share.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sfts::audit::detail {

// Owns one file descriptor; move-only.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd();
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

// flock(op) for the lifetime of the object (retried on EINTR); Error(io) on failure.
class FileLock {
public:
    FileLock(int fd, int op, const std::string& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_;
};

// Current size of the open file; Error(io) on failure.
std::uint64_t file_size(int fd, const std::string& path);

// Reads exactly len bytes at offset (pread, retried); Error(io) on failure or a short file.
void read_exact(int fd, std::uint64_t offset, char* buf, std::size_t len, const std::string& path);

// "<what> <path>: <strerror(errno)>"
std::string errno_message(const std::string& what, const std::string& path);

}  // namespace sfts::audit::detail
