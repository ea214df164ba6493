// Hostile names through the real protocol, from a logged-in client that writes its own frames
// (the real client's encoder would refuse most of these before sending).
//
//   traversal_client corpus CONFIG CORPUS STORAGE_DIR MARKER
//       every name of CORPUS (tests/attack/traversal_corpus.txt) as an upload, a download, a
//       delete and a list cursor; each answer must be the one the corpus line expects.
//   traversal_client planted CONFIG STORAGE_DIR OUTSIDE_DIR MARKER
//       symlinks, a hardlink, a FIFO and a directory planted in the storage directory where the
//       server expects its files, and symlinks planted under names the client then uploads to.
//
// MARKER is a string inside every canary file outside the storage directory: no byte the
// server sends (download data, list entries, reply texts) may contain it. The caller checks
// the canaries themselves (content, mtime, existence) before and after.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "raw_client.hpp"

using namespace sfts;
using namespace sfts::test_client;

namespace {

std::string g_marker;
int g_marker_hits = 0;

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// Every message from the server passes here: a canary's content must never appear in it.
void inspect(const proto::Message& m) {
    auto check = [](std::string_view s, const char* where) {
        if (!g_marker.empty() && contains(s, g_marker)) {
            ++g_marker_hits;
            std::cout << "FAIL: canary content in " << where << std::endl;
        }
    };
    auto as_text = [](const proto::Bytes& b) { return std::string_view(reinterpret_cast<const char*>(b.data()), b.size()); };
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) check(e->message, "an error reply");
    if (auto* o = std::get_if<proto::OkReply>(&m)) check(o->message, "an ok reply");
    if (auto* c = std::get_if<proto::DownloadChunk>(&m)) check(as_text(c->data), "download data");
    if (auto* p = std::get_if<proto::ListPage>(&m))
        for (const auto& e : p->entries) check(e.name, "a list entry");
}

// Printable form of a name for the test output.
std::string shown(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
        if (ch >= 0x21 && ch < 0x7f && ch != '\\') {
            out += static_cast<char>(ch);
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", ch);
            out += b;
        }
    }
    if (out.size() > 80) out = out.substr(0, 60) + "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

// One logged-in connection, made again after the server ended the last one.
struct Client {
    Setup& s;
    std::optional<Conn> c;
    int logins = 0;
    Conn& get() {
        if (!c) {
            c = connect(s);
            if (login(*c, s.user, s.password) != Errc::ok) throw Error(Errc::auth_failed, "login failed");
            ++logins;
        }
        return *c;
    }
    proto::Message rx() {
        auto m = get().rx();
        inspect(m);
        return m;
    }
};

struct Answer {
    Errc kind = Errc::ok;  // ok, the error_reply's kind, or io when the connection was cut
    bool cut = false;
    std::string text;
};

void put_u32(proto::Bytes& b, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_u64(proto::Bytes& b, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

enum class Op { upload, download, remove, list };
const char* op_name(Op op) {
    switch (op) {
        case Op::upload: return "upload";
        case Op::download: return "download";
        case Op::remove: return "delete";
        case Op::list: return "list cursor";
    }
    return "?";
}

// Sends OP naming NAME in a frame we build ourselves (header, then the name's length and bytes
// exactly as given), and returns the server's answer. A session the server ends is dropped.
Answer raw_request(Client& cl, Op op, const std::string& name) {
    Conn& c = cl.get();
    auto h = c.header();
    proto::Bytes body;
    put_u64(body, h.request_id);
    put_u64(body, static_cast<std::uint64_t>(h.timestamp_ms));
    body.insert(body.end(), h.nonce.begin(), h.nonce.end());
    put_u32(body, static_cast<std::uint32_t>(name.size()));
    body.insert(body.end(), name.begin(), name.end());
    proto::MsgType type = proto::MsgType::list_request;
    if (op == Op::upload) {
        put_u64(body, 10);
        body.push_back(0);
        type = proto::MsgType::upload_begin;
    } else if (op == Op::download) {
        type = proto::MsgType::download_request;
    } else if (op == Op::remove) {
        type = proto::MsgType::delete_request;
    }
    // The frame header by hand: encode_frame refuses bodies over the limit, which is the point.
    proto::Bytes frame;
    put_u32(frame, static_cast<std::uint32_t>(body.size()));
    frame.push_back(static_cast<std::uint8_t>(type));
    frame.insert(frame.end(), body.begin(), body.end());
    Answer a;
    try {
        c.ch->send_encoded(type, frame, soon());
    } catch (const Error&) {
        a.cut = true;  // the server closed while we were still writing (oversized frame)
    }
    try {
        auto m = cl.rx();
        if (auto* e = std::get_if<proto::ErrorReply>(&m)) {
            a.kind = e->errc();
            a.text = e->message;
        } else if (op == Op::upload && std::holds_alternative<proto::OkReply>(m)) {
            // A name the server took: abort the upload so that nothing is stored.
            c.ch->send(proto::TransferAbort{c.header()}, soon());
            cl.rx();
        } else if (op == Op::download && std::holds_alternative<proto::DownloadHeader>(m)) {
            for (;;) {
                auto d = cl.rx();
                if (!std::holds_alternative<proto::DownloadChunk>(d)) break;
            }
        }
    } catch (const Error& e) {
        a.cut = true;
        a.kind = Errc::io;
        a.text = e.what();
    }
    if (a.cut || a.kind == Errc::protocol || a.kind == Errc::limit_exceeded) cl.c.reset();
    return a;
}

// ---------------------------------------------------------------------------------------------
// The storage directory as the test sees it, independently of the server.

std::set<std::string> entries(const std::string& dir) {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

std::optional<std::string> regular_file_content(const std::string& dir, const std::string& name) {
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return std::nullopt;
    int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ::close(dfd);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    std::string out;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        ::close(fd);
        return out;
    }
    ::close(fd);
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Legitimate operations (the real encoder), used for names that are legal.

Errc upload(Client& cl, const std::string& name, const std::string& content, bool overwrite) {
    Conn& c = cl.get();
    proto::UploadBegin b{c.header(), name, content.size(), overwrite};
    c.ch->send(b, soon());
    auto m = cl.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    proto::Bytes data(content.begin(), content.end());
    if (!data.empty()) c.ch->send(proto::UploadChunk{data}, soon());
    auto digest = ossl::sha256(data.data(), data.size());
    proto::UploadEnd end;
    std::copy(digest.begin(), digest.end(), end.sha256.begin());
    end.signature = pki::pss_sign(cl.s.key.get(), proto::upload_record(cl.s.user, b, end.sha256));
    c.ch->send(end, soon());
    m = cl.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    return std::get<proto::UploadReceipt>(m).filename == name ? Errc::ok : Errc::integrity;
}

// The downloaded content, or the error's kind.
std::variant<std::string, Errc> download(Client& cl, const std::string& name) {
    Conn& c = cl.get();
    c.ch->send(proto::DownloadRequest{c.header(), name}, soon());
    auto m = cl.rx();
    if (auto* e = std::get_if<proto::ErrorReply>(&m)) return e->errc();
    auto& h = std::get<proto::DownloadHeader>(m);
    if (h.filename != name) return Errc::integrity;
    std::string out;
    for (;;) {
        auto d = cl.rx();
        if (auto* chunk = std::get_if<proto::DownloadChunk>(&d)) {
            out.append(reinterpret_cast<const char*>(chunk->data.data()), chunk->data.size());
            continue;
        }
        if (auto* e = std::get_if<proto::ErrorReply>(&d)) return e->errc();
        std::get<proto::DownloadEnd>(d);
        break;
    }
    return out;
}

Errc remove(Client& cl, const std::string& name) {
    Conn& c = cl.get();
    c.ch->send(proto::DeleteRequest{c.header(), name}, soon());
    return reply_kind(cl.rx());
}

std::vector<std::string> list_all(Client& cl) {
    std::vector<std::string> names;
    std::string cursor;
    do {
        Conn& c = cl.get();
        c.ch->send(proto::ListRequest{c.header(), cursor}, soon());
        auto page = std::get<proto::ListPage>(cl.rx());
        for (auto& e : page.entries) names.push_back(e.name);
        cursor = page.next_cursor;
    } while (!cursor.empty());
    return names;
}

Errc kind_of(const std::variant<std::string, Errc>& r) {
    return std::holds_alternative<Errc>(r) ? std::get<Errc>(r) : Errc::ok;
}

std::string kind_text(Errc e) { return std::string(errc_name(e)); }

// ---------------------------------------------------------------------------------------------
// The corpus

// Unescapes one corpus name (the notation is described at the top of traversal_corpus.txt).
std::string unescape(const std::string& in, int line) {
    std::string out;
    std::size_t repeat = 1;
    auto emit = [&](const std::string& unit) {
        for (std::size_t k = 0; k < repeat; ++k) out += unit;
        repeat = 1;
    };
    auto bad = [&](const std::string& why) {
        throw Error(Errc::invalid_argument, "corpus line " + std::to_string(line) + ": " + why);
    };
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\') {
            emit(std::string(1, in[i]));
            continue;
        }
        if (++i >= in.size()) bad("lone backslash at the end");
        char e = in[i];
        if (e == '\\') {
            emit("\\");
        } else if (e == 's') {
            emit(" ");
        } else if (e == 't') {
            emit("\t");
        } else if (e == 'x') {
            if (i + 2 >= in.size()) bad("short \\x");
            emit(std::string(1, static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16))));
            i += 2;
        } else if (e == 'u') {
            auto close = in.find('}', i);
            if (i + 1 >= in.size() || in[i + 1] != '{' || close == std::string::npos) bad("bad \\u{...}");
            auto cp = static_cast<std::uint32_t>(std::stoul(in.substr(i + 2, close - i - 2), nullptr, 16));
            std::string u;
            if (cp < 0x80) {
                u += static_cast<char>(cp);
            } else if (cp < 0x800) {
                u += static_cast<char>(0xC0 | (cp >> 6));
                u += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                u += static_cast<char>(0xE0 | (cp >> 12));
                u += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                u += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                u += static_cast<char>(0xF0 | (cp >> 18));
                u += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                u += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                u += static_cast<char>(0x80 | (cp & 0x3F));
            }
            emit(u);
            i = close;
        } else if (e == '[') {
            auto close = in.find(']', i);
            if (close == std::string::npos) bad("bad \\[N]");
            repeat = std::stoul(in.substr(i + 1, close - i - 1));
            i = close;
        } else {
            bad(std::string("unknown escape \\") + e);
        }
    }
    return out;
}

struct Entry {
    std::string expect;
    std::string name;
    int line;
};

std::vector<Entry> read_corpus(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(Errc::not_found, "cannot read " + path);
    std::vector<Entry> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty() || line[0] == '#') continue;
        auto sp = line.find(' ');
        std::string expect = line.substr(0, sp);
        std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
        static const std::set<std::string> known = {"protocol", "limit", "frame", "invalid", "blank", "literal"};
        if (!known.count(expect)) throw Error(Errc::invalid_argument, "corpus line " + std::to_string(n) + ": unknown expectation");
        out.push_back({expect, unescape(rest, n), n});
    }
    return out;
}

// The answer a rejected name must get for one request.
bool as_expected(const std::string& expect, Op op, const std::string& name, const Answer& a) {
    if (expect == "protocol") {
        if (op == Op::list && name.empty()) return a.kind == Errc::ok && !a.cut;  // "from the start"
        return a.kind == Errc::protocol;
    }
    if (expect == "limit") return a.kind == Errc::limit_exceeded;
    if (expect == "frame") return a.kind == Errc::limit_exceeded || a.cut;
    if (expect == "invalid") return a.kind == Errc::invalid_argument && !a.cut;
    if (expect == "blank") {  // legal on the wire, so absent like any other name; never a new file
        if (op == Op::upload) return a.kind == Errc::invalid_argument && !a.cut;
        if (op == Op::list) return a.kind == Errc::ok && !a.cut;
        return a.kind == Errc::not_found && !a.cut;
    }
    return false;
}

int run_corpus(Setup& s, const std::string& corpus_path, const std::string& storage) {
    auto corpus = read_corpus(corpus_path);
    Client cl{s, {}, 0};
    std::map<std::string, int> counts;
    int requests = 0;
    const auto before = entries(storage);
    for (const auto& e : corpus) {
        const std::string what = e.expect + " '" + shown(e.name) + "' (line " + std::to_string(e.line) + ")";
        counts[e.expect]++;
        if (e.expect != "literal") {
            for (Op op : {Op::upload, Op::download, Op::remove, Op::list}) {
                ++requests;
                Answer a = raw_request(cl, op, e.name);
                if (!as_expected(e.expect, op, e.name, a))
                    verdict(false, what + ": " + op_name(op) + " answered " + kind_text(a.kind) + (a.cut ? " (cut)" : "") +
                                       " '" + a.text.substr(0, 100) + "'");
            }
            if (entries(storage) != before) verdict(false, what + ": the storage directory changed");
            continue;
        }
        // A legal name: it is one entry of the storage directory, exactly these bytes.
        const std::string content = "payload of corpus line " + std::to_string(e.line);
        requests += 7;
        bool ok = true;
        auto fail_if = [&](bool bad, const std::string& why) {
            if (bad) {
                verdict(false, what + ": " + why);
                ok = false;
            }
        };
        fail_if(kind_of(download(cl, e.name)) != Errc::not_found, "download before upload is not not_found");
        Answer cursor = raw_request(cl, Op::list, e.name);
        fail_if(cursor.kind != Errc::ok, "list cursor refused: " + kind_text(cursor.kind));
        Errc up = upload(cl, e.name, content, false);
        fail_if(up != Errc::ok, "upload refused: " + kind_text(up));
        auto after = entries(storage);
        std::vector<std::string> added;
        std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added));
        fail_if(added != std::vector<std::string>{e.name}, "the storage directory did not gain exactly this one entry (" +
                                                              std::to_string(added.size()) + " new)");
        fail_if(regular_file_content(storage, e.name) != content, "the stored file is not a regular file with the content");
        auto listed = list_all(cl);
        fail_if(std::count(listed.begin(), listed.end(), e.name) != 1, "not listed under its name");
        auto got = download(cl, e.name);
        fail_if(!std::holds_alternative<std::string>(got) || std::get<std::string>(got) != content,
                "download does not give back the content");
        fail_if(remove(cl, e.name) != Errc::ok, "delete refused");
        fail_if(entries(storage) != before, "the storage directory is not back to what it was");
        fail_if(kind_of(download(cl, e.name)) != Errc::not_found, "download after delete is not not_found");
        if (!ok) continue;
    }
    std::cout << "corpus: " << corpus.size() << " names (";
    for (const auto& [k, n] : counts) std::cout << k << " " << n << ", ";
    std::cout << "), " << requests << " requests, " << cl.logins << " logins" << std::endl;
    verdict(entries(storage) == before, "after the corpus the storage directory holds what it held before");
    auto listed = list_all(cl);
    verdict(listed.empty(), "nothing is listed after the corpus (" + std::to_string(listed.size()) + " entries)");
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Planted entries

int run_planted(Setup& s, const std::string& storage, const std::string& outside) {
    Client cl{s, {}, 0};
    namespace fs = std::filesystem;
    const std::string canary = outside + "/canary.txt";
    const auto canary_size = fs::file_size(canary);
    const std::string rel = fs::relative(canary, storage).string();  // e.g. ../../../outside/canary.txt

    auto plant = [&](const std::string& name, const std::function<void(const std::string&)>& make) {
        fs::remove(storage + "/" + name);
        make(storage + "/" + name);
    };
    auto symlink_to = [](std::string target) { return [target](const std::string& at) { fs::create_symlink(target, at); }; };

    struct Planted {
        std::string name;
        std::string what;
        std::function<void(const std::string&)> make;
        Errc download_gets;  // the refusal a download must get
        Errc delete_gets;
    };
    const std::vector<Planted> cases = {
        {"link-abs", "symlink to a canary (absolute)", symlink_to(canary), Errc::invalid_argument, Errc::ok},
        {"link-rel", "symlink to a canary (" + rel + ")", symlink_to(rel), Errc::invalid_argument, Errc::ok},
        {"link-chain", "symlink to a symlink to a canary", symlink_to("link-abs-2"), Errc::invalid_argument, Errc::ok},
        {"link-dir", "symlink to a directory outside", symlink_to(outside + "/dir"), Errc::invalid_argument, Errc::ok},
        {"link-fifo", "symlink to a FIFO outside", symlink_to(outside + "/canary.fifo"), Errc::invalid_argument, Errc::ok},
        {"link-passwd", "symlink to /etc/passwd", symlink_to("/etc/passwd"), Errc::invalid_argument, Errc::ok},
        {"link-self", "symlink to the storage directory itself", symlink_to("."), Errc::invalid_argument, Errc::ok},
        {"link-proc", "symlink to /proc/self/root/etc/passwd", symlink_to("/proc/self/root/etc/passwd"), Errc::invalid_argument,
         Errc::ok},
        {"fifo-here", "a FIFO in the storage directory", [](const std::string& at) { ::mkfifo(at.c_str(), 0600); },
         Errc::invalid_argument, Errc::ok},
        {"dir-here", "a directory in the storage directory", [](const std::string& at) { fs::create_directory(at); },
         Errc::invalid_argument, Errc::invalid_argument},
        // A hardlink is the file itself, so only its size betrays it: with the size of the record
        // it would be served (and the client would catch the hash). Here the sizes differ.
        {"hardlink", "a hardlink to a canary of another size",
         [&](const std::string& at) { fs::create_hard_link(outside + "/canary-hard.txt", at); }, Errc::integrity, Errc::ok},
    };
    fs::create_symlink(canary, storage + "/link-abs-2");  // the chain's second link, not in the database

    for (const auto& p : cases) {
        // A real upload first, so that the database knows the name (a download checks it before
        // opening anything), of the canary's size (so that the size check is not what saves us).
        Errc up = upload(cl, p.name, std::string(canary_size, 'x'), false);
        verdict(up == Errc::ok, p.name + ": upload of the decoy (" + kind_text(up) + ")");
        plant(p.name, p.make);
        auto got = download(cl, p.name);
        verdict(kind_of(got) == p.download_gets,
                p.what + ": download refused with " + kind_text(p.download_gets) + " (got " + kind_text(kind_of(got)) + ")");
        Errc again = upload(cl, p.name, "new content", false);
        verdict(again == Errc::already_exists, p.what + ": upload under its name without overwrite is already_exists (got " +
                                                   kind_text(again) + ")");
        Errc del = remove(cl, p.name);
        verdict(del == p.delete_gets, p.what + ": delete answers " + kind_text(p.delete_gets) + " (got " + kind_text(del) + ")");
        if (del == Errc::ok) verdict(!fs::exists(fs::symlink_status(storage + "/" + p.name)), p.what + ": delete removed the entry");
    }
    // What is left: the directory (delete refuses it) and the chain's second link. The
    // database still lists the directory's name; remove both behind the server's back.
    fs::remove(storage + "/dir-here");
    fs::remove(storage + "/link-abs-2");
    verdict(remove(cl, "dir-here") == Errc::ok, "the directory's record is deleted once the directory is gone");

    // Symlinks planted under a name the client then uploads to: never written through.
    struct Target {
        std::string name, what, target, must_not_exist;
    };
    const std::vector<Target> targets = {
        {"target-dangling", "dangling symlink to a new file outside", outside + "/created-by-upload",
         outside + "/created-by-upload"},
        {"target-canary", "symlink to a canary", canary, ""},
        {"target-dir", "symlink to a directory outside", outside + "/dir", outside + "/dir/target-dir"},
        {"target-rel", "relative symlink to a new file outside", fs::relative(outside, storage).string() + "/created-rel",
         outside + "/created-rel"},
    };
    for (const auto& t : targets) {
        fs::create_symlink(t.target, storage + "/" + t.name);
        Errc plain = upload(cl, t.name, "uploaded over a symlink", false);
        verdict(plain == Errc::already_exists,
                t.what + ": upload without overwrite is already_exists (got " + kind_text(plain) + ")");
        Errc over = upload(cl, t.name, "uploaded over a symlink", true);
        verdict(over == Errc::ok, t.what + ": upload with overwrite (admin) accepted (got " + kind_text(over) + ")");
        verdict(regular_file_content(storage, t.name) == std::string("uploaded over a symlink"),
                t.what + ": the symlink was replaced by a regular file");
        if (!t.must_not_exist.empty())
            verdict(!fs::exists(fs::symlink_status(t.must_not_exist)), t.what + ": nothing created at " + t.must_not_exist);
        auto got = download(cl, t.name);
        verdict(std::holds_alternative<std::string>(got) && std::get<std::string>(got) == "uploaded over a symlink",
                t.what + ": download gives the uploaded file");
        verdict(remove(cl, t.name) == Errc::ok, t.what + ": delete");
    }
    auto listed = list_all(cl);
    verdict(listed.empty(), "nothing is listed after the planted cases (" + std::to_string(listed.size()) + " entries)");
    verdict(entries(storage).empty(), "the storage directory is empty again");
    std::cout << "planted: " << cases.size() << " planted entries, " << targets.size() << " upload targets, " << cl.logins
              << " logins" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: traversal_client corpus CONFIG CORPUS STORAGE_DIR MARKER\n"
                     "       traversal_client planted CONFIG STORAGE_DIR OUTSIDE_DIR MARKER\n";
        return 2;
    }
    const std::string mode = argv[1];
    g_marker = argv[5];
    std::signal(SIGPIPE, SIG_IGN);  // the server may close while we still write an oversized frame
    try {
        Setup s(argv[2]);
        if (mode == "corpus") {
            run_corpus(s, argv[3], argv[4]);
        } else if (mode == "planted") {
            run_planted(s, argv[3], argv[4]);
        } else {
            std::cerr << "unknown mode " << mode << "\n";
            return 2;
        }
    } catch (const std::exception& e) {
        std::cout << "FAIL: unexpected error: " << e.what() << std::endl;
        return 1;
    }
    verdict(g_marker_hits == 0, "no canary content in anything the server sent");
    std::cout << mode << ": " << (failures ? std::to_string(failures) + " failures" : std::string("all as expected")) << std::endl;
    return failures ? 1 : 0;
}
