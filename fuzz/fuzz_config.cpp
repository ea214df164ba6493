// libFuzzer harness for the configuration parsers: sftsd.conf (server::load_config) and sfts.conf
// (client::load_client_config), i.e. common/ini's INI reader (POCO's IniFileConfiguration) and
// both option tables with their value validators (integers, lists, PKCS#11 URIs, secret
// sources, addresses, ...).
//
// Input: byte 0 bit 0 picks the server's or the client's file; the rest is the file's content.
// Invariants: loading succeeds or fails with Error(invalid_argument) naming the problem - never
// another exception (a POCO exception escaping would end sftsd or sfts with "internal error");
// and ini::read round-trips: the entries it returns (keys made of option-name characters),
// written back as "[section]\nkey = value", read back to the same entries.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "fuzz_support.hpp"
#include "sfts/client/client.hpp"
#include "sfts/ini.hpp"
#include "sfts/server/config.hpp"

namespace {

using namespace sfts;
using sfts::fuzz::crash;

const std::string& dir() {
    static const std::string d = [] {
        char shm[] = "/dev/shm/sfts-fuzz-config-XXXXXX";
        char tmp[] = "/tmp/sfts-fuzz-config-XXXXXX";
        const char* p = mkdtemp(shm);
        if (!p) p = mkdtemp(tmp);
        if (!p) crash("mkdtemp failed");
        static std::string keep = p;
        std::atexit([] {
            ::unlink((keep + "/a.conf").c_str());
            ::unlink((keep + "/b.conf").c_str());
            ::rmdir(keep.c_str());
        });
        return keep;
    }();
    return d;
}

void write(const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) crash("cannot write the temporary file");
}

std::vector<std::pair<std::string, std::string>> sorted(const std::vector<ini::RawEntry>& v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : v) out.emplace_back(e.key, e.value);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool server = (data[0] & 1) != 0;
    const std::string path = dir() + "/a.conf";
    write(path, sfts::fuzz::chars({data + 1, size - 1}));

    sfts::fuzz::accepted({Errc::invalid_argument}, [&] {
        if (server)
            (void)server::load_config(path);
        else
            (void)client::load_client_config(path);
    });

    std::vector<ini::RawEntry> entries;
    if (!sfts::fuzz::accepted({Errc::invalid_argument}, [&] { entries = ini::read(path); })) return 0;
    // The round trip is checked for files whose keys look like option names (lower case, no
    // empty part): POCO has no quoting, so a section named "]x" or "" cannot be written back,
    // and it compares keys case-insensitively, so "[log]" and "[LOG]" are one section (both
    // refused anyway: the option table's names are lower case and compared exactly).
    for (const auto& e : entries)
        if (e.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") != std::string::npos ||
            e.key.starts_with('.') || e.key.ends_with('.') || e.key.find("..") != std::string::npos)
            return 0;
    std::string text;
    for (const auto& e : entries) {
        const auto dot = e.key.find('.');
        if (dot == std::string::npos) crash("ini::read returned a key outside a section");
        text += "[" + e.key.substr(0, dot) + "]\n" + e.key.substr(dot + 1) + " = " + e.value + "\n";
    }
    const std::string again_path = dir() + "/b.conf";
    write(again_path, text);
    std::vector<ini::RawEntry> again;
    try {
        again = ini::read(again_path);
    } catch (const Error& e) {
        std::fprintf(stderr, "re-read: %s\n", e.what());
        crash("ini::read refused its own entries written back");
    }
    if (sorted(again) != sorted(entries)) {
        for (const auto& [k, v] : sorted(entries)) std::fprintf(stderr, "first:  '%s' = '%s'\n", k.c_str(), v.c_str());
        for (const auto& [k, v] : sorted(again)) std::fprintf(stderr, "again:  '%s' = '%s'\n", k.c_str(), v.c_str());
        crash("ini::read does not round-trip");
    }
    return 0;
}
