#include "posix_file.hpp"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sfts/error.hpp"

namespace sfts::audit::detail {

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

std::string errno_message(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

FileLock::FileLock(int fd, int op, const std::string& path) : fd_(fd) {
    while (::flock(fd, op) != 0) {
        if (errno != EINTR) fail(Errc::io, errno_message("cannot lock audit log", path));
    }
}

FileLock::~FileLock() { ::flock(fd_, LOCK_UN); }

std::uint64_t file_size(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(Errc::io, errno_message("cannot stat audit log", path));
    return static_cast<std::uint64_t>(st.st_size);
}

void read_exact(int fd, std::uint64_t offset, char* buf, std::size_t len, const std::string& path) {
    while (len > 0) {
        const ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(Errc::io, errno_message("cannot read audit log", path));
        }
        if (n == 0) fail(Errc::io, "audit log " + path + " shrank while being read");
        buf += n;
        len -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
}

}  // namespace sfts::audit::detail
