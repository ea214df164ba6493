// libFuzzer harness for file name validation (storage::valid_filename, the storage layer's first
// fence, and the protocol's `filename` text rule it shares with the codec).
//
// Input: the name a client puts in upload_begin / download_request / delete_request.
// Invariants, each against an independent oracle written here from docs/protocol.md:
//   - valid_filename(name) == the rule: 1..255 bytes of strict UTF-8 (RFC 3629), no C0, DEL or
//     C1 control, no '/' or '\', not "." or "..", not starting with ".sfts-";
//   - the codec agrees: the Writer accepts exactly the rule-abiding names (reserved prefix aside);
//   - an accepted name really is one entry of the store's directory: committed through the real
//     FileStore (a tmpfs directory), it shows up as exactly that directory entry, opens, and is
//     removed again; a refused name is refused by FileStore::commit too.
#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "sfts/protocol/limits.hpp"
#include "sfts/protocol/writer.hpp"
#include "sfts/storage/file_store.hpp"

namespace {

using namespace sfts;
using sfts::fuzz::crash;

// Strict UTF-8 decoding (RFC 3629 section 4's table), one code point per call; false when malformed.
bool next_cp(std::string_view s, std::size_t& i, char32_t& cp) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
        cp = c;
        ++i;
        return true;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
        if (i + k >= s.size()) return false;
        const unsigned char t = b(i + k);
        if (k == 1 ? (t < lo || t > hi) : (t < 0x80 || t > 0xBF)) return false;
        cp = (cp << 6) | (t & 0x3F);
    }
    i += n + 1;
    return true;
}

bool oracle(std::string_view s, bool reserved_prefix_matters) {
    if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
    if (reserved_prefix_matters && s.starts_with(".sfts-")) return false;
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        if (!next_cp(s, i, cp)) return false;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
        if (cp == U'/' || cp == U'\\') return false;
    }
    return true;
}

const std::string& store_dir() {
    static const std::string dir = [] {
        // tmpfs when there is one: thousands of files a second, nothing reaches a disk.
        char shm[] = "/dev/shm/sfts-fuzz-filename-XXXXXX";
        char tmp[] = "/tmp/sfts-fuzz-filename-XXXXXX";
        const char* d = mkdtemp(shm);
        if (!d) d = mkdtemp(tmp);
        if (!d) crash("mkdtemp failed");
        static std::string parent = d;
        // Empty by then (every accepted name is removed again); leaves nothing in /dev/shm.
        std::atexit([] {
            ::rmdir((parent + "/files").c_str());
            ::rmdir(parent.c_str());
        });
        return parent + "/files";
    }();
    return dir;
}

std::vector<std::string> entries() {
    std::vector<std::string> out;
    std::unique_ptr<DIR, decltype([](DIR* d) { closedir(d); })> dir(opendir(store_dir().c_str()));
    if (!dir) crash("opendir failed");
    while (const dirent* e = readdir(dir.get())) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string name(sfts::fuzz::chars({data, size}));
    const bool valid = storage::valid_filename(name);
    if (valid != oracle(name, true)) crash("valid_filename disagrees with the rule");

    proto::Writer w;
    const bool wire_ok = sfts::fuzz::accepted({Errc::invalid_argument, Errc::limit_exceeded}, [&] {
        w.string(name, proto::max_filename_bytes, proto::TextRule::filename, "filename");
    });
    if (wire_ok != oracle(name, false)) crash("the codec's filename rule disagrees with the rule");

    static storage::FileStore store(store_dir());
    auto up = store.begin_upload();
    const std::uint8_t byte = 0x61;
    up.write({&byte, 1});
    const bool committed = sfts::fuzz::accepted({Errc::invalid_argument}, [&] { up.commit(name, false); });
    if (committed != valid) crash("FileStore::commit disagrees with valid_filename");
    if (!committed) return 0;
    sfts::fuzz::note("file stored");
    const auto list = entries();
    if (list.size() != 1 || list[0] != name) crash("the committed file is not exactly that directory entry");
    if (store.open(name).size() != 1) crash("the committed file does not open with its content");
    store.remove(name);
    if (!entries().empty()) crash("remove left something behind");
    return 0;
}
