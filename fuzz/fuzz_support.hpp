// Shared by the libFuzzer harnesses: the one invariant (h11's) is that any input is accepted or
// refused with an sfts::Error of an expected kind. Anything else - another exception, another
// kind, a sanitizer report, a broken round trip - aborts, which libFuzzer records as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <span>
#include <string_view>

#include "sfts/error.hpp"

namespace sfts::fuzz {

[[noreturn]] inline void crash(const char* why) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", why);
    std::abort();
}

inline void check_kind(const Error& e, std::initializer_list<Errc> allowed) {
    for (Errc k : allowed)
        if (e.kind() == k) return;
    std::fprintf(stderr, "unexpected error kind %d: %s\n", static_cast<int>(e.kind()), e.what());
    crash("error kind");
}

// Runs f; true when it returned, false when it threw an sfts::Error of an allowed kind.
// Any other exception escapes to libFuzzer (an uncaught exception is a crash).
template <typename F>
bool accepted(std::initializer_list<Errc> allowed, F&& f) {
    try {
        f();
        return true;
    } catch (const Error& e) {
        check_kind(e, allowed);
        return false;
    }
}

// SFTS_FUZZ_VERBOSE=1 makes harnesses say which outcome an input reached (to check that the
// seeds reach the accepting paths, e.g. `fuzz_scram_server corpus/fuzz_scram_server/plain_ok`).
inline void note(const char* what) {
    static const bool verbose = std::getenv("SFTS_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "fuzz: %s\n", what);
}

inline std::string_view chars(std::span<const std::uint8_t> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace sfts::fuzz
