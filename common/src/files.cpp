#include "sfts/files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
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

// ---- MappedReader

// What the SIGBUS handler may touch: set before the window is used, cleared before it is
// unmapped; one per reader, reachable from the faulting thread only.
struct MappedReader::Guard {
    std::uintptr_t begin = 0, end = 0;
    volatile std::sig_atomic_t hit = 0;
};

namespace {

// initial-exec: a plain load in the handler, no lazy allocation of the thread's TLS block.
thread_local MappedReader::Guard* t_guard __attribute__((tls_model("initial-exec"))) = nullptr;
struct sigaction g_previous_bus {};
std::mutex g_install_mutex;
long g_page_size = 4096;

extern "C" void on_sigbus(int sig, siginfo_t* info, void* context) {
    (void)sig;
    (void)context;
    MappedReader::Guard* g = t_guard;
    const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    if (g != nullptr && info->si_code == BUS_ADRERR && addr >= g->begin && addr < g->end) {
        // A page of our window past the file's new end: put a page of zeros in its place and
        // let the access run again. mmap is a plain system call here (async-signal-safe in
        // practice, though POSIX does not list it).
        void* page = reinterpret_cast<void*>(addr & ~static_cast<std::uintptr_t>(g_page_size - 1));
        if (::mmap(page, static_cast<std::size_t>(g_page_size), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                   0) != MAP_FAILED) {
            g->hit = 1;
            return;
        }
    }
    // Not ours: give the signal back to whoever had it (or the default action). Returning
    // re-runs the faulting access, which faults again into that handler.
    ::sigaction(SIGBUS, &g_previous_bus, nullptr);
}

// Installs on_sigbus unless it already is the handler (a TUI may have put its own in place
// since, which then becomes the one chained to).
void install_sigbus_guard() {
    std::lock_guard lock(g_install_mutex);
    struct sigaction current {};
    ::sigaction(SIGBUS, nullptr, &current);
    if ((current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_sigbus) return;
    g_page_size = ::sysconf(_SC_PAGESIZE);
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO;
    struct sigaction previous {};
    if (::sigaction(SIGBUS, &sa, &previous) != 0) fail(Errc::internal, "cannot install the SIGBUS guard: " + errno_text());
    g_previous_bus = previous;
}

}  // namespace

MappedReader::MappedReader(int fd, std::uint64_t size, std::uint64_t window, Mode mode)
    : fd_(fd), size_(size), window_(window), guard_(std::make_unique<Guard>()), buffered_(mode == Mode::buffered) {
    if (window_ == 0 || window_ % static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) != 0)
        fail(Errc::invalid_argument, "MappedReader: the window must be a positive multiple of the page size");
    if (!buffered_) install_sigbus_guard();
}

MappedReader::~MappedReader() { unmap_window(); }

void MappedReader::unmap_window() noexcept {
    if (map_ == nullptr) return;
    if (!buffered_) {
        if (t_guard == guard_.get()) t_guard = nullptr;
        if (guard_->hit) truncated_ = true;
        ::munmap(map_, map_len_);
    }
    map_ = nullptr;
    map_len_ = 0;
}

void MappedReader::map_window() {
    unmap_window();
    map_offset_ = offset_;
    if (!buffered_) {
        map_len_ = std::min(window_, size_ - offset_);
        void* m = ::mmap(nullptr, map_len_, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(map_offset_));
        if (m != MAP_FAILED) {
            map_ = static_cast<std::uint8_t*>(m);
            ::madvise(map_, map_len_, MADV_SEQUENTIAL);
            guard_->begin = reinterpret_cast<std::uintptr_t>(map_);
            guard_->end = guard_->begin + map_len_;
            guard_->hit = 0;
            t_guard = guard_.get();
            return;
        }
        map_len_ = 0;
        // A file system without mmap (some FUSE file systems): read it instead.
        if (errno != ENODEV) fail(Errc::io, "cannot map the file for reading: " + errno_text());
        buffered_ = true;
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(std::min(window_, kBufferedWindow), size_ - offset_));
    buffer_.resize(want);
    std::size_t got = 0;
    while (got < want) {
        ssize_t n = ::pread(fd_, buffer_.data() + got, want - got, static_cast<off_t>(offset_ + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(Errc::io, "cannot read the file: " + errno_text());
        if (n == 0) {  // the file shrank: the same zeros and flag as a vanished mapped page
            std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(got), buffer_.end(), std::uint8_t{0});
            truncated_ = true;
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    map_ = buffer_.data();
    map_len_ = want;
}

std::span<const std::uint8_t> MappedReader::next(std::size_t max) {
    if (offset_ >= size_ || max == 0) return {};
    if (map_ == nullptr || offset_ >= map_offset_ + map_len_) map_window();
    // Another reader on this thread may have taken the guard since: this window is used now.
    if (!buffered_) t_guard = guard_.get();
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(max, map_offset_ + map_len_ - offset_));
    std::span<const std::uint8_t> piece(map_ + (offset_ - map_offset_), n);
    offset_ += n;
    return piece;
}

bool MappedReader::truncated() const noexcept { return truncated_ || guard_->hit != 0; }

}  // namespace sfts
