#include "sfts/audit/audit_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "posix_file.hpp"
#include "record.hpp"
#include "sfts/error.hpp"

namespace sfts::audit {

using detail::Fd;
using detail::FileLock;

namespace {

constexpr std::size_t kChunk = 64 * 1024;

struct Head {
    std::uint64_t seq = 0;
    std::string hash{kZeroHash};
};

// 1-based number of the line that starts at offset (only on error paths: reads the prefix).
std::uint64_t line_number_at(int fd, std::uint64_t offset, const std::string& path) {
    std::uint64_t lines = 1;
    std::string buf(kChunk, '\0');
    for (std::uint64_t at = 0; at < offset;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, offset - at));
        detail::read_exact(fd, at, buf.data(), n, path);
        lines +=
            static_cast<std::uint64_t>(std::count(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n), '\n'));
        at += n;
    }
    return lines;
}

[[noreturn]] void damaged_tail(int fd, std::uint64_t line_start, const std::string& path, const std::string& what) {
    fail(Errc::integrity, "audit log " + path + ": line " + std::to_string(line_number_at(fd, line_start, path)) +
                              ": " + what + "; not repaired (check the log with verify)");
}

// The last record of a file of size bytes, whose every line must be complete and whose last
// line must be a record whose hash matches its content. Called with the file locked.
Head read_head(int fd, std::uint64_t size, const std::string& path) {
    if (size == 0) return {};
    char last = 0;
    detail::read_exact(fd, size - 1, &last, 1, path);
    if (last != '\n') {
        // Where the incomplete line starts: after the previous newline.
        std::uint64_t start = size;
        std::string buf(kChunk, '\0');
        while (start > 0) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, start));
            detail::read_exact(fd, start - n, buf.data(), n, path);
            const auto nl = std::string_view(buf.data(), n).rfind('\n');
            if (nl != std::string_view::npos) {
                start = start - n + nl + 1;
                break;
            }
            start -= n;
        }
        damaged_tail(fd, start, path, "incomplete last line (no newline: crash mid-write?)");
    }

    // Read backwards from the final newline until the one before it, at most a record's length.
    const std::uint64_t end = size - 1;  // the last line is [start, end)
    const std::uint64_t limit = std::min<std::uint64_t>(end, kMaxRecordBytes);
    std::string tail;  // the last `limit` bytes before the final newline, read chunk by chunk
    std::uint64_t start = end;
    bool found = false;
    while (end - start < limit) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, limit - (end - start)));
        std::string chunk(n, '\0');
        detail::read_exact(fd, start - n, chunk.data(), n, path);
        tail.insert(0, chunk);
        start -= n;
        const auto nl = std::string_view(chunk).rfind('\n');
        if (nl != std::string_view::npos) {
            const std::size_t cut = nl + 1;  // chunk is at the front of tail
            tail.erase(0, cut);
            start += cut;
            found = true;
            break;
        }
    }
    if (!found && start != 0)
        damaged_tail(fd, start, path, "last line longer than " + std::to_string(kMaxRecordBytes) + " bytes");

    const auto parsed = detail::parse_record(tail);
    if (!parsed.ok) damaged_tail(fd, start, path, "not a JSON record (" + parsed.error + ")");
    if (detail::content_hash(tail, parsed.record) != parsed.record.hash)
        damaged_tail(fd, start, path, "hash does not match its content (record edited)");
    return {parsed.record.seq, parsed.record.hash};
}

}  // namespace

std::int64_t system_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct AuditLog::Impl {
    std::string path;
    std::function<std::int64_t()> clock_ms;
    Fd fd;
    // Guards the members below and serializes this process's threads: flock alone cannot,
    // since all threads share one open file description (and so one flock owner).
    mutable std::mutex mu;
    mutable Head head;
    mutable std::uint64_t known_size = 0;  // file size after the last record we wrote or read

    // Brings head up to date with the file; the caller holds mu and a flock.
    void refresh(std::uint64_t size) const {
        if (size < known_size)
            fail(Errc::integrity, "audit log " + path + " shrank from " + std::to_string(known_size) + " to " +
                                      std::to_string(size) + " bytes under us (records removed?)");
        if (size != known_size) {
            head = read_head(fd.get(), size, path);
            known_size = size;
        }
    }
};

AuditLog::AuditLog(std::string path, std::function<std::int64_t()> clock_ms) : impl_(std::make_unique<Impl>()) {
    if (!clock_ms) fail(Errc::invalid_argument, "audit log: no clock");
    impl_->path = std::move(path);
    impl_->clock_ms = std::move(clock_ms);
    const int fd = ::open(impl_->path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == ELOOP) fail(Errc::invalid_argument, "audit log " + impl_->path + " is a symbolic link");
        fail(Errc::io, detail::errno_message("cannot open audit log", impl_->path));
    }
    impl_->fd = Fd(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(Errc::io, detail::errno_message("cannot stat audit log", impl_->path));
    if (!S_ISREG(st.st_mode)) fail(Errc::invalid_argument, "audit log " + impl_->path + " is not a regular file");

    const FileLock lock(fd, LOCK_SH, impl_->path);
    const std::uint64_t size = detail::file_size(fd, impl_->path);
    impl_->head = read_head(fd, size, impl_->path);
    impl_->known_size = size;
}

AuditLog::~AuditLog() = default;
AuditLog::AuditLog(AuditLog&&) noexcept = default;
AuditLog& AuditLog::operator=(AuditLog&&) noexcept = default;

const std::string& AuditLog::path() const { return impl_->path; }

void AuditLog::append(std::string_view event, const std::vector<Field>& fields) {
    append_many(event, std::vector<std::vector<Field>>{fields});
}

void AuditLog::append_many(std::string_view event, const std::vector<std::vector<Field>>& records) {
    if (event.empty()) fail(Errc::invalid_argument, "audit event name is empty");
    if (records.empty()) return;
    // {"seq":<20 digits>,"time":"<24>"  ,"prev":"<64>","hash":"<64>"}\n
    constexpr std::size_t kFixed = 8 + 20 + 9 + 24 + 1 + 10 + 64 + 1 + 9 + 64 + 3;
    // Everything but seq, time and prev is known before taking the lock.
    std::vector<std::string> bodies;
    bodies.reserve(records.size());
    std::size_t total = 0;
    for (const auto& fields : records) {
        std::string body = ",\"event\":\"";
        detail::append_escaped(body, event);
        body += '"';
        for (const auto& f : fields) {
            if (!detail::valid_field_key(f.key))
                fail(Errc::invalid_argument,
                     "audit field key \"" + f.key.substr(0, 64) + "\" is reserved or not [a-z0-9_]+");
            body += ",\"";
            body += f.key;
            body += "\":\"";
            detail::append_escaped(body, f.value);
            body += '"';
        }
        if (body.size() + kFixed > kMaxRecordBytes)
            fail(Errc::limit_exceeded, "audit record of " + std::to_string(body.size() + kFixed) +
                                           " bytes exceeds the limit of " + std::to_string(kMaxRecordBytes));
        total += body.size() + kFixed;
        bodies.push_back(std::move(body));
    }

    Impl& m = *impl_;
    const std::lock_guard guard(m.mu);
    const FileLock lock(m.fd.get(), LOCK_EX, m.path);
    const std::uint64_t size = detail::file_size(m.fd.get(), m.path);
    m.refresh(size);

    // All records in one buffer: one write() and one fdatasync() for a batch of them.
    std::string lines;
    lines.reserve(total);
    Head head = m.head;
    const std::string time = detail::format_time(m.clock_ms());
    for (const auto& body : bodies) {
        if (head.seq == UINT64_MAX)
            fail(Errc::integrity, "audit log " + m.path + ": seq exhausted (forged last record?)");
        const std::uint64_t seq = head.seq + 1;
        std::string line;
        line.reserve(body.size() + kFixed);
        line += "{\"seq\":";
        line += std::to_string(seq);
        line += ",\"time\":\"";
        line += time;
        line += '"';
        line += body;
        line += ",\"prev\":\"";
        line += head.hash;
        line += '"';
        std::string hash = detail::sha256_hex(line);
        line += ",\"hash\":\"";
        line += hash;
        line += "\"}\n";
        lines += line;
        head = Head{seq, std::move(hash)};
    }

    // One write() on an O_APPEND descriptor, under LOCK_EX: the lines land whole at the end.
    ssize_t n;
    do {
        n = ::write(m.fd.get(), lines.data(), lines.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0 || static_cast<std::size_t>(n) != lines.size()) {
        const std::string why = n < 0 ? detail::errno_message("cannot write audit log", m.path)
                                      : "short write to audit log " + m.path + " (" + std::to_string(n) + " of " +
                                            std::to_string(lines.size()) + " bytes; disk full?)";
        // Cut our partial lines off again, so that the tail stays a complete record; we still
        // hold LOCK_EX, so nobody has appended after them.
        if (n > 0 && ::ftruncate(m.fd.get(), static_cast<off_t>(size)) != 0)
            fail(Errc::io, why + "; cutting the partial line off failed too: line is damaged");
        fail(Errc::io, why);
    }
    m.head = std::move(head);
    m.known_size = size + lines.size();
    if (sync && ::fdatasync(m.fd.get()) != 0)
        fail(Errc::io, detail::errno_message("cannot fdatasync audit log", m.path));
}

std::string AuditLog::head() const {
    const Impl& m = *impl_;
    const std::lock_guard guard(m.mu);
    const FileLock lock(m.fd.get(), LOCK_SH, m.path);
    m.refresh(detail::file_size(m.fd.get(), m.path));
    return std::to_string(m.head.seq) + ":" + m.head.hash;
}

}  // namespace sfts::audit
