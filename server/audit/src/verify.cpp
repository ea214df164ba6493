#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "posix_file.hpp"
#include "record.hpp"
#include "sfts/audit/audit_log.hpp"
#include "sfts/error.hpp"

namespace sfts::audit {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

class Checker {
public:
    explicit Checker(VerifyReport& report) : report_(report) {}

    void line(std::uint64_t no, std::string_view text) {
        const auto parsed = detail::parse_record(text);
        if (!parsed.ok) {
            problem(at(no) + "not a JSON record (" + parsed.error + ")");
            return;
        }
        const detail::ParsedRecord& r = parsed.record;
        ++report_.records;
        seen_.push_back(r.seq);
        if (detail::content_hash(text, r) != r.hash)
            problem(at(no) + "hash does not match its content (record edited)");
        if (!have_last_) {
            if (r.prev != kZeroHash)
                problem("first record's prev must be 64 zeros (records removed from the start)");
            else if (r.seq != 1)
                problem(at(no) + "first record has seq " + std::to_string(r.seq) +
                        ", not 1 (records removed from the start)");
        } else {
            if (r.prev != report_.last_hash)
                problem(at(no) + "prev does not match line " + std::to_string(last_line_) +
                        " (record removed or reordered)");
            const std::string follows =
                at(no) + "seq " + std::to_string(r.seq) + " follows " + std::to_string(report_.last_seq);
            if (r.seq <= report_.last_seq) {
                problem(follows + " (record duplicated or reordered)");
            } else if (r.seq != report_.last_seq + 1) {
                // Whether the skipped records are gone or elsewhere is known only at the end.
                if (problem(follows)) gaps_.push_back({report_.problems.size() - 1, report_.last_seq + 1, r.seq - 1});
            }
        }
        have_last_ = true;
        last_line_ = no;
        report_.last_seq = r.seq;
        report_.last_hash = r.hash;
    }

    void overlong(std::uint64_t no) {
        problem(at(no) + "longer than " + std::to_string(kMaxRecordBytes) + " bytes (not a record)");
    }

    void incomplete(std::uint64_t no) { problem(at(no) + "incomplete last line (no newline: crash mid-write?)"); }

    void finish() {
        std::sort(seen_.begin(), seen_.end());
        for (const Gap& g : gaps_) {
            const auto present = static_cast<std::uint64_t>(std::upper_bound(seen_.begin(), seen_.end(), g.last) -
                                                            std::lower_bound(seen_.begin(), seen_.end(), g.first));
            const std::string which = g.first == g.last
                                          ? "record " + std::to_string(g.first)
                                          : "records " + std::to_string(g.first) + " to " + std::to_string(g.last);
            std::string why;
            if (present == 0)
                why = " removed";
            else if (present >= g.last - g.first + 1)
                why = " out of order";
            else
                why = " removed or out of order";
            report_.problems[g.index] += " (" + which + why + ")";
        }
        if (total_ > report_.problems.size())
            report_.problems.push_back("... and " + std::to_string(total_ - report_.problems.size()) +
                                       " more problems");
        report_.ok = total_ == 0;
    }

private:
    struct Gap {
        std::size_t index;  // into report_.problems
        std::uint64_t first, last;
    };

    static std::string at(std::uint64_t no) { return "line " + std::to_string(no) + ": "; }

    // Records a problem; false if it was only counted (over kMaxReportedProblems).
    bool problem(std::string text) {
        ++total_;
        if (report_.problems.size() >= kMaxReportedProblems) return false;
        report_.problems.push_back(std::move(text));
        return true;
    }

    VerifyReport& report_;
    bool have_last_ = false;
    std::uint64_t last_line_ = 0;
    std::uint64_t total_ = 0;
    std::vector<std::uint64_t> seen_;
    std::vector<Gap> gaps_;
};

}  // namespace

VerifyReport verify(const std::string& path) {
    const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) {
        if (errno == ENOENT) fail(Errc::not_found, "audit log " + path + " does not exist");
        fail(Errc::io, detail::errno_message("cannot open audit log", path));
    }
    const detail::Fd fd(raw);
    // Every append completes under LOCK_EX, so the bytes present while we hold LOCK_SH are
    // whole lines; reading only those lets writers go on while we check.
    std::uint64_t size = 0;
    {
        const detail::FileLock lock(fd.get(), LOCK_SH, path);
        size = detail::file_size(fd.get(), path);
    }

    VerifyReport report;
    Checker check(report);
    std::string buf(kChunk, '\0');
    std::string line;
    bool overlong = false;
    std::uint64_t line_no = 1;
    for (std::uint64_t at = 0; at < size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - at));
        detail::read_exact(fd.get(), at, buf.data(), n, path);
        at += n;
        std::string_view rest(buf.data(), n);
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            const std::string_view piece = rest.substr(0, nl);
            // Check the length before buffering (docs/conventions.md §2).
            if (!overlong && line.size() + piece.size() + 1 > kMaxRecordBytes) {
                overlong = true;
                line.clear();
            }
            if (!overlong) line.append(piece);
            if (nl == std::string_view::npos) break;
            if (overlong)
                check.overlong(line_no);
            else
                check.line(line_no, line);
            line.clear();
            overlong = false;
            ++line_no;
            rest.remove_prefix(nl + 1);
        }
    }
    if (overlong || !line.empty()) check.incomplete(line_no);
    check.finish();
    return report;
}

}  // namespace sfts::audit
