// An append-only audit log of security events, one JSON object per line, each line carrying
// the hash of the one before (a hash chain), so that an edited, removed, inserted, duplicated
// or reordered record is detected by verify().
//
// Record format (canonical: the writer alone serializes it; fixed key order, no spaces):
//   {"seq":N,"time":"2026-11-26T22:31:42.123Z","event":"...",<fields in the given order>,
//    "prev":"<64 hex>","hash":"<64 hex>"}\n
// seq starts at 1 and grows by exactly 1. time is UTC with milliseconds, from the injected
// clock. All field values are JSON strings.
//
// Hash definition:
//   hash = lower-case hex SHA-256 over the exact bytes of the line from its first byte up to,
//          not including, the `,"hash":"` that opens the last member (so prev is covered);
//   prev = the previous record's hash, or 64 '0' for the first record.
// The verifier recomputes the hash from the raw line bytes; it never re-serializes. It parses
// each line with a strict parser (no duplicate keys, no trailing bytes, valid UTF-8, the
// member order above), so what a line means and what its hash covers cannot diverge.
//
// Escaping of values (and of the event name): '"' and '\' are backslash-escaped; every byte
// below 0x20, DEL (0x7f) and the C1 controls U+0080..U+009F are written as \u00XX (so no raw
// newline and no terminal escape sequence can ever reach the file); other valid UTF-8 passes
// through unchanged; each byte of an ill-formed UTF-8 sequence (RFC 3629: overlong forms,
// surrogates, > U+10FFFF, truncated sequences, stray continuation bytes) becomes U+FFFD.
// The replacement is lossy by design: a JSON string cannot carry raw bytes, and a hex
// side-channel would make the format ambiguous. A NUL inside a std::string is kept (\u0000).
//
// What the chain cannot do:
//  - Truncation of the END of the log (deleting the last k records) leaves a valid chain.
//    Mitigation: anchoring. head() returns "seq:hash" of the last record; sftsd writes it to its
//    normal log periodically, and an anchor whose seq is beyond verify()'s last_seq, or whose
//    hash differs at that seq, proves truncation.
//  - Anyone who can write the file can rewrite the whole chain from any point on (the hash
//    is not keyed). Detection then also relies on the anchors kept elsewhere.
//
// Concurrency: append() is safe from many threads and from many processes at once (sftsd and
// sfts-admin both write): each append holds flock(LOCK_EX) on the file, re-reads the last
// record if the file changed since our last append, writes the whole line with one write()
// on an O_APPEND descriptor, then fdatasync()s (unless sync is false). Rotation is not
// supported: the file is never renamed or truncated by us, and a file that shrank under us is
// Error(integrity). A forked child must open its own AuditLog (flock is per open file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sfts::audit {

// One line, newline included, may not exceed this: append() refuses a longer record with
// Error(limit_exceeded) (callers truncate peer-controlled strings, docs/conventions.md §7); the
// verifier reports a longer line instead of buffering it.
inline constexpr std::size_t kMaxRecordBytes = std::size_t{1} << 20;

// The prev of the first record.
inline constexpr std::string_view kZeroHash = "0000000000000000000000000000000000000000000000000000000000000000";

// String values only (numbers as decimal strings): keeps the canonical form trivial.
struct Field {
    std::string key;    // [a-z0-9_]+, not one of seq, time, event, prev, hash
    std::string value;  // arbitrary bytes; escaped as described above
};

// Milliseconds since the Unix epoch from the system clock.
std::int64_t system_clock_ms();

class AuditLog {
public:
    // Opens (creating it 0600 if missing; O_NOFOLLOW, regular files only) the log at path and
    // continues the chain from its last record. A damaged tail (a last line that is not a
    // complete record whose hash matches its content, e.g. a crash mid-write) is
    // Error(integrity) naming the line: never silently repaired. Error(io) if it can't be
    // opened or read.
    explicit AuditLog(std::string path, std::function<std::int64_t()> clock_ms = system_clock_ms);
    ~AuditLog();
    AuditLog(AuditLog&&) noexcept;
    AuditLog& operator=(AuditLog&&) noexcept;
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // Appends one record (format above). Thread-safe and safe against other processes
    // appending to the same file. Error(invalid_argument) for a bad or reserved key, or an
    // empty event; Error(limit_exceeded) for a record over kMaxRecordBytes; Error(integrity)
    // if another writer left a damaged tail or the file shrank; Error(io) if the write fails
    // (a short write is cut back off the file before the error is thrown).
    void append(std::string_view event, const std::vector<Field>& fields);
    // Appends one record per element, consecutively, with one write() and one fdatasync():
    // a batch upload audits each of its files without a sync per file. Nothing is appended
    // if any record is refused.
    void append_many(std::string_view event, const std::vector<std::vector<Field>>& records);

    // "seq:hash" of the last record in the file (re-read under flock if another process
    // appended), "0:<64 zeros>" for an empty log. For anchoring in the server log.
    // Error(integrity) like append() if the tail is damaged or the file shrank.
    std::string head() const;

    const std::string& path() const;

    // fdatasync() after every append. Turn off only where losing the last records in a power
    // failure is acceptable (tests, benchmarks). Set before appending from several threads.
    bool sync = true;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// problems are human sentences in line order, such as
//   "line 17: hash does not match its content (record edited)"
//   "line 18: prev does not match line 17 (record removed or reordered)"
//   "line 18: seq 20 follows 18 (record 19 removed)"   (or "records 19 to 21 removed",
//                                                        "record 19 out of order")
//   "line 19: seq 18 follows 20 (record duplicated or reordered)"
//   "line 5: not a JSON record (duplicate key \"user\")"
//   "line 9: incomplete last line (no newline: crash mid-write?)"
//   "first record's prev must be 64 zeros (records removed from the start)"
struct VerifyReport {
    std::uint64_t records = 0;  // lines that parsed as records
    bool ok = true;             // no problems
    std::vector<std::string> problems;
    std::uint64_t last_seq = 0;        // of the last record that parsed (0 if none)
    std::string last_hash{kZeroHash};  // its hash field (64 zeros if none); compare to anchors
};

// At most this many problems are listed; a final sentence counts the rest.
inline constexpr std::size_t kMaxReportedProblems = 1000;

// Reads the whole log at path and checks every line and the chain. Error(not_found) if path
// does not exist, Error(io) if it can't be read.
VerifyReport verify(const std::string& path);

}  // namespace sfts::audit
