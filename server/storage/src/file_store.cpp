#include "sfts/storage/file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "sfts/error.hpp"
#include "sfts/files.hpp"

namespace sfts::storage {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// What a client may be told: the kind of trouble, never a path.
[[noreturn]] void fail_errno(const std::string& what, int err) {
    if (err == ENOSPC || err == EDQUOT) fail(Errc::limit_exceeded, "storage full: no space left on the server");
    if (err == EFBIG) fail(Errc::limit_exceeded, "storage full: the file exceeds the server's file size limit");
    // A read-only or immutable storage directory: the service is degraded, not the request wrong.
    if (err == EROFS || err == EACCES || err == EPERM)
        fail(Errc::unavailable, "storage not writable on the server (" + what + ": " + errno_text(err) + ")");
    fail(Errc::io, what + ": " + errno_text(err));
}

void check_name(const std::string& name) {
    if (!valid_filename(name)) fail(Errc::invalid_argument, "invalid file name");
}

std::string random_hex(std::size_t bytes) {
    unsigned char buf[32];
    SFTS_INVARIANT(bytes <= sizeof buf);
    std::size_t got = 0;
    while (got < bytes) {
        ssize_t n = getrandom(buf + got, bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(Errc::internal, "getrandom: " + errno_text(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        out += digits[buf[i] >> 4];
        out += digits[buf[i] & 0xF];
    }
    return out;
}

// openat2 confines the whole resolution beneath the directory and refuses every symlink; the
// name is one validated component anyway, so on a kernel without openat2 (ENOSYS) openat with
// O_NOFOLLOW gives the same guarantee for that component.
int open_beneath(int dir_fd, const char* name, int flags) {
#ifdef SYS_openat2
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long fd = syscall(SYS_openat2, dir_fd, name, &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a concurrent rename; retry
        if (errno != ENOSYS && errno != EPERM) return -1;  // EPERM: a seccomp filter refusing it
        break;
    }
#endif
    int fd;
    do fd = ::openat(dir_fd, name, flags | O_NOFOLLOW);
    while (fd < 0 && errno == EINTR);
    return fd;
}

std::int64_t to_ms(const struct timespec& ts) {
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Fd

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

// ---------------------------------------------------------------------------------------------
// FileStore

FileStore::FileStore(const std::string& dir) : path_(dir) {
    if (dir.empty()) fail(Errc::invalid_argument, "storage directory not set");
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) fail(Errc::io, "storage directory " + dir + ": " + errno_text(errno));
        make_dirs(dir, 0700);
    }
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        // O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR on Linux, not ELOOP: ask lstat.
        if (err == ELOOP || (err == ENOTDIR && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)))
            fail(Errc::invalid_argument, "storage directory " + dir + " is a symbolic link");
        if (err == ENOTDIR) fail(Errc::invalid_argument, "storage directory " + dir + " is not a directory");
        if (err == ENOENT) fail(Errc::not_found, "storage directory " + dir + " does not exist");
        if (err == EACCES) fail(Errc::permission_denied, "storage directory " + dir + ": " + errno_text(err));
        fail(Errc::io, "storage directory " + dir + ": " + errno_text(err));
    }
    dir_ = Fd(fd);

    // Remove temporaries of uploads whose process died. Every live Upload holds an flock on
    // its temporary, so a second FileStore on the same directory (another server, the admin
    // tool) never removes an upload in progress: only files nobody holds are stale.
    int list_fd = ::openat(dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (list_fd < 0) fail(Errc::io, "storage directory " + dir + ": " + errno_text(errno));
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(list_fd), ::closedir);
    if (!d) {
        int err = errno;
        ::close(list_fd);
        fail(Errc::io, "storage directory " + dir + ": " + errno_text(err));
    }
    while (struct dirent* e = ::readdir(d.get())) {
        std::string_view name(e->d_name);
        if (!name.starts_with(kTempPrefix)) continue;
        Fd t(::openat(dir_.get(), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (!t) {
            if (errno == ELOOP) ::unlinkat(dir_.get(), e->d_name, 0);  // a planted symlink: not ours
            continue;
        }
        struct stat held {}, now {};
        if (::flock(t.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live upload
        if (::fstat(t.get(), &held) != 0 || !S_ISREG(held.st_mode)) continue;
        // Unlink only the very file we hold the lock on.
        if (::fstatat(dir_.get(), e->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == held.st_ino &&
            now.st_dev == held.st_dev)
            ::unlinkat(dir_.get(), e->d_name, 0);
    }
}

FileStore::Upload FileStore::begin_upload(std::uint64_t expected_size) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string temp = std::string(kTempPrefix) + random_hex(16);
        Fd fd(::openat(dir_.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) {
            if (errno == EEXIST || errno == EINTR) continue;
            fail_errno("create temporary file", errno);
        }
        Upload up(dir_.get(), std::move(fd), std::move(temp), 0);
        // A FileStore opening concurrently may have taken this file for stale between our
        // create and our lock; then it is (or will be) unlinked: start again with a new name.
        struct stat st {};
        if (::flock(up.fd_.get(), LOCK_EX | LOCK_NB) != 0 || ::fstat(up.fd_.get(), &st) != 0 || st.st_nlink == 0)
            continue;
        if (expected_size > 0) {
            // Linux fallocate, not posix_fallocate: where the filesystem cannot preallocate we
            // go without rather than have glibc write the whole size in zeros.
            if (::fallocate(up.fd_.get(), 0, 0, static_cast<off_t>(expected_size)) == 0)
                up.reserved_ = expected_size;
            else if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINTR)
                fail_errno("preallocate upload", errno);
        }
        return up;
    }
    fail(Errc::io, "could not create a temporary file in the storage directory");
}

FileStore::Reader FileStore::open(const std::string& name) {
    check_name(name);
    // O_NONBLOCK so that a FIFO planted here cannot hang the thread in open().
    Fd fd(open_beneath(dir_.get(), name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        int err = errno;
        if (err == ENOENT) fail(Errc::not_found, "no such file");
        if (err == ELOOP || err == EXDEV) fail(Errc::invalid_argument, "not a regular file");
        if (err == EACCES || err == EPERM) fail(Errc::permission_denied, "file not readable: " + errno_text(err));
        fail(Errc::io, "open file: " + errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail(Errc::io, "stat file: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) fail(Errc::invalid_argument, "not a regular file");
    int fl = ::fcntl(fd.get(), F_GETFL);
    if (fl >= 0) ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return Reader(std::move(fd), static_cast<std::uint64_t>(st.st_size), to_ms(st.st_mtim));
}

void FileStore::remove(const std::string& name) {
    check_name(name);
    // unlinkat removes the entry itself: a symlink goes, its target is never touched.
    if (::unlinkat(dir_.get(), name.c_str(), 0) != 0) {
        int err = errno;
        if (err == ENOENT) fail(Errc::not_found, "no such file");
        if (err == EISDIR || err == EPERM) fail(Errc::invalid_argument, "not a regular file");
        if (err == EACCES) fail(Errc::permission_denied, "cannot remove file: " + errno_text(err));
        fail(Errc::io, "remove file: " + errno_text(err));
    }
    if (::fsync(dir_.get()) != 0) fail(Errc::io, "fsync storage directory: " + errno_text(errno));
}

bool FileStore::exists(const std::string& name) {
    check_name(name);
    struct stat st {};
    if (::fstatat(dir_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
    if (errno == ENOENT) return false;
    fail(Errc::io, "stat file: " + errno_text(errno));
}

std::uint64_t FileStore::free_bytes() const {
    struct statvfs sv {};
    if (::fstatvfs(dir_.get(), &sv) != 0) fail(Errc::io, "statvfs storage directory: " + errno_text(errno));
    return static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize;
}

// ---------------------------------------------------------------------------------------------
// Upload

FileStore::Upload::Upload(int dir_fd, Fd fd, std::string temp_name, std::uint64_t reserved) noexcept
    : dir_fd_(dir_fd), fd_(std::move(fd)), temp_name_(std::move(temp_name)), reserved_(reserved) {}

FileStore::Upload::Upload(Upload&& o) noexcept
    : dir_fd_(o.dir_fd_),
      fd_(std::move(o.fd_)),
      temp_name_(std::move(o.temp_name_)),
      written_(o.written_),
      reserved_(o.reserved_),
      writeback_(o.writeback_),
      committed_(o.committed_) {
    o.committed_ = true;  // the moved-from object owns nothing to clean up
}

FileStore::Upload& FileStore::Upload::operator=(Upload&& o) noexcept {
    if (this != &o) {
        discard();
        dir_fd_ = o.dir_fd_;
        fd_ = std::move(o.fd_);
        temp_name_ = std::move(o.temp_name_);
        written_ = o.written_;
        reserved_ = o.reserved_;
        writeback_ = o.writeback_;
        committed_ = o.committed_;
        o.committed_ = true;
    }
    return *this;
}

FileStore::Upload::~Upload() { discard(); }

void FileStore::Upload::discard() noexcept {
    if (!committed_ && fd_) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    fd_ = Fd();
    committed_ = true;
}

void FileStore::Upload::write(std::span<const std::uint8_t> data) {
    if (committed_ || !fd_) fail(Errc::internal, "write to a finished upload");
    const std::uint8_t* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        ssize_t n = ::write(fd_.get(), p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno("write file", errno);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
        written_ += static_cast<std::uint64_t>(n);
    }
    writeback_.wrote(fd_.get(), written_);
}

void FileStore::Upload::commit(const std::string& name, bool overwrite) {
    check_name(name);
    if (committed_ || !fd_) fail(Errc::internal, "commit of a finished upload");
    // Give back the preallocated tail if fewer bytes came than announced.
    if (reserved_ > written_ && ::ftruncate(fd_.get(), static_cast<off_t>(written_)) != 0)
        fail_errno("truncate file", errno);
    if (::fsync(fd_.get()) != 0) fail_errno("fsync file", errno);

    // rename replaces the directory entry itself: a symlink of that name is replaced, never
    // written through.
    unsigned flags = overwrite ? 0 : RENAME_NOREPLACE;
    if (::renameat2(dir_fd_, temp_name_.c_str(), dir_fd_, name.c_str(), flags) != 0) {
        int err = errno;
        if (err == EINVAL && !overwrite) {
            // A filesystem without RENAME_NOREPLACE: link() refuses an existing name atomically too.
            if (::linkat(dir_fd_, temp_name_.c_str(), dir_fd_, name.c_str(), 0) != 0) {
                err = errno;
                if (err == EEXIST) fail(Errc::already_exists, "file exists");
                fail_errno("store file", err);
            }
            ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
        } else if (err == EEXIST || err == ENOTEMPTY || err == EISDIR) {
            fail(Errc::already_exists, "file exists");
        } else {
            fail_errno("store file", err);
        }
    }
    committed_ = true;
    fd_ = Fd();  // releases the flock
    if (::fsync(dir_fd_) != 0) fail(Errc::io, "fsync storage directory: " + errno_text(errno));
}

// ---------------------------------------------------------------------------------------------
// Reader

std::size_t FileStore::Reader::read(std::span<std::uint8_t> buf) {
    if (!fd_) fail(Errc::internal, "read from a moved-from reader");
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) fail(Errc::io, "read file: " + errno_text(errno));
    }
}

}  // namespace sfts::storage
