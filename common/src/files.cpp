#include "sfts/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "sfts/error.hpp"

namespace sfts {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content, unsigned mode) {
    std::random_device rd;
    std::string tmp = path + ".tmp-" + std::to_string(rd());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) fail(Errc::io, "cannot create " + tmp + ": " + errno_text());
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::string why = errno_text();
            ::close(fd);
            ::unlink(tmp.c_str());
            fail(Errc::io, "cannot write " + tmp + ": " + why);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
        std::string why = errno_text();
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(Errc::io, "cannot sync " + tmp + ": " + why);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string why = errno_text();
        ::unlink(tmp.c_str());
        fail(Errc::io, "cannot rename " + tmp + " to " + path + ": " + why);
    }
    int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // never block on a FIFO
    if (fd < 0) fail(errno == ENOENT ? Errc::not_found : Errc::io, "cannot open " + path + ": " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(Errc::invalid_argument, path + " is not a regular file");
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        ::close(fd);
        fail(Errc::limit_exceeded, path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    std::string out;
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

void make_dirs(const std::string& path, unsigned mode) {
    if (path.empty()) fail(Errc::invalid_argument, "empty directory path");
    std::string cur;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        cur = path.substr(0, pos);
        if (cur.empty()) continue;
        if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
            fail(Errc::io, "cannot create directory " + cur + ": " + errno_text());
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) fail(Errc::io, path + " is not a directory");
}

void WritebackWindow::wrote(int fd, std::uint64_t total) noexcept {
    if (total < started_ + window_) return;
    ::sync_file_range(fd, static_cast<off_t>(started_), static_cast<off_t>(total - started_), SYNC_FILE_RANGE_WRITE);
    if (started_ > waited_) {
        ::sync_file_range(fd, static_cast<off_t>(waited_), static_cast<off_t>(started_ - waited_),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        waited_ = started_;
    }
    started_ = total;
}

}  // namespace sfts
