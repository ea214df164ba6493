// The storage directory of sftsd. Confinement by the OS (docs/conventions.md §6): every access is
// relative to the directory's fd, after strict name validation, and never follows a symlink.
// Uploads go to a temporary file that becomes visible under its name only at commit, after
// fsync: nothing half-written is ever visible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sfts/files.hpp"

namespace sfts::storage {

// Prefix of our own temporary files; names starting with ".sfts-" are reserved.
inline constexpr std::string_view kReservedPrefix = ".sfts-";
inline constexpr std::string_view kTempPrefix = ".sfts-tmp-";
// A batch's staging directory is a temporary too: ".sfts-tmp-batch-<random>".
inline constexpr std::string_view kBatchPrefix = ".sfts-tmp-batch-";
inline constexpr std::size_t kMaxFilenameBytes = 255;

// The protocol's `filename` rule (valid UTF-8, not empty, no control characters, no '/' or '\',
// not "." or "..", at most 255 bytes) and not starting with ".sfts-".
bool valid_filename(std::string_view name);

// Owns one file descriptor; move-only.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd();
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// Uploads and Readers borrow the FileStore's directory fd: the FileStore must outlive them.
// Every method is safe to call from many threads at once.
class FileStore {
public:
    // Creates dir (0700) if missing; opens it O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC (a symlinked
    // directory is refused: Error(invalid_argument)); removes ".sfts-tmp-*" left by a crash.
    explicit FileStore(const std::string& dir);
    FileStore(const FileStore&) = delete;
    FileStore& operator=(const FileStore&) = delete;

    // A temporary file ".sfts-tmp-<random>" in the directory, 0600. Move-only.
    class Upload {
    public:
        Upload(Upload&& o) noexcept;
        Upload& operator=(Upload&& o) noexcept;
        Upload(const Upload&) = delete;
        Upload& operator=(const Upload&) = delete;
        ~Upload();  // unlinks the temporary file unless committed; never throws

        // Error(io) with the errno text; ENOSPC/EDQUOT/EFBIG: Error(limit_exceeded, "storage full").
        void write(std::span<const std::uint8_t> data);
        // fsync, rename to name (refusing an existing name unless overwrite: Error(already_exists)),
        // fsync of the directory. Error(invalid_argument) for an invalid name.
        void commit(const std::string& name, bool overwrite);
        std::uint64_t bytes_written() const noexcept { return written_; }

    private:
        friend class FileStore;
        Upload(int dir_fd, Fd fd, std::string temp_name, std::uint64_t reserved) noexcept;
        void discard() noexcept;
        int dir_fd_ = -1;
        Fd fd_;
        std::string temp_name_;
        std::uint64_t written_ = 0;
        std::uint64_t reserved_ = 0;     // bytes preallocated by begin_upload
        WritebackWindow writeback_;      // the one fsync at commit finds little left to do
        bool committed_ = false;
    };
    // expected_size, when known (upload_begin carries it), is preallocated so that a full disk
    // is reported here, before any byte is received: Error(limit_exceeded, "storage full").
    Upload begin_upload(std::uint64_t expected_size = 0);

    // Many small files staged in one private directory ".sfts-tmp-batch-<random>" (0700, held by
    // an flock like an Upload's temporary) and made visible together. Only the directory's fd
    // stays open, so a batch of thousands of files needs no more descriptors than one file.
    // Move-only; the FileStore must outlive it.
    class Batch {
    public:
        Batch(Batch&& o) noexcept;
        Batch& operator=(Batch&&) = delete;
        Batch(const Batch&) = delete;
        Batch& operator=(const Batch&) = delete;
        // Undoes a commit() not followed by finish(), then removes the staging directory and
        // everything in it. Never throws.
        ~Batch();

        // Stages the next file with its whole content (not yet synced). Errors as Upload::write.
        void add(std::span<const std::uint8_t> data);
        std::size_t count() const noexcept { return count_; }

        // Group commit of files 0..count()-1 under names[i]: one syncfs() makes all their data
        // durable (cheaper than one fdatasync per file; docs/benchmarks.md), then each is renamed
        // into place - with overwrite an existing file is exchanged into the staging directory,
        // so that it can be put back - then one fsync of the storage directory. If a rename
        // fails, those already done are undone and Error(already_exists) (or the I/O error)
        // says which name: nothing of the batch stays visible.
        void commit(const std::vector<std::string>& names, bool overwrite);
        // The metadata is committed too: the renames stay, replaced files are dropped.
        void finish() noexcept;

    private:
        friend class FileStore;
        Batch(int store_fd, Fd dir, std::string dir_name) noexcept;
        void undo() noexcept;
        int store_fd_ = -1;
        Fd dir_;  // the staging directory, flocked
        std::string dir_name_;
        std::size_t count_ = 0;
        std::vector<std::string> names_;     // committed names, in order
        std::vector<bool> exchanged_;        // renames that swapped an old file into the staging directory
        bool finished_ = false;
    };
    Batch begin_batch();

    // A regular file opened for reading; move-only, owns the fd.
    class Reader {
    public:
        Reader(Reader&&) noexcept = default;
        Reader& operator=(Reader&&) noexcept = default;
        std::uint64_t size() const noexcept { return size_; }
        std::int64_t mtime_ms() const noexcept { return mtime_ms_; }
        int fd() const noexcept { return fd_.get(); }  // read it with a MappedReader; stays owned here

    private:
        friend class FileStore;
        Reader(Fd fd, std::uint64_t size, std::int64_t mtime_ms) noexcept
            : fd_(std::move(fd)), size_(size), mtime_ms_(mtime_ms) {}
        Fd fd_;
        std::uint64_t size_ = 0;
        std::int64_t mtime_ms_ = 0;
    };
    // Error(not_found) if absent; Error(invalid_argument) for a symlink or anything but a regular file.
    Reader open(const std::string& name);
    void remove(const std::string& name);  // Error(not_found)
    bool exists(const std::string& name);
    std::uint64_t free_bytes() const;  // for an unprivileged writer (f_bavail)

    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    Fd dir_;
};

}  // namespace sfts::storage
