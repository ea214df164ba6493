// Shared by the load programs (bench/load.cpp, tests/load/load_driver.cpp): credentials read
// once per user, the server's /proc status, file hashing, and "--option value" arguments.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/hsm/pin.hpp"
#include "sfts/ossl.hpp"

namespace sfts::load {

using Clock = std::chrono::steady_clock;

// MODE, then positional arguments and "--key value" pairs in any order.
struct Args {
    std::string mode;
    std::vector<std::string> positional;
    std::map<std::string, std::string> opt;

    static Args parse(int argc, char** argv) {
        Args a;
        if (argc < 2) throw std::invalid_argument("need a MODE");
        a.mode = argv[1];
        for (int i = 2; i < argc; ++i) {
            std::string s = argv[i];
            if (s.rfind("--", 0) != 0) {
                a.positional.push_back(s);
                continue;
            }
            if (i + 1 >= argc) throw std::invalid_argument(s + " needs a value");
            a.opt[s] = argv[++i];
        }
        return a;
    }
    std::string get(const std::string& k, const std::string& def = {}) const {
        auto it = opt.find(k);
        if (it != opt.end()) return it->second;
        if (def.empty()) throw std::invalid_argument("missing " + k);
        return def;
    }
    int num(const std::string& k, const std::string& def = {}) const { return std::stoi(get(k, def)); }
};

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

inline proto::Sha256 sha256_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Errc::not_found, "cannot read " + path);
    ossl::EvpMdCtxPtr md(EVP_MD_CTX_new());
    ossl::check(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        ossl::check(EVP_DigestUpdate(md.get(), buf.data(), static_cast<std::size_t>(in.gcount())), "EVP_DigestUpdate");
    }
    proto::Sha256 d{};
    unsigned int len = 0;
    ossl::check(EVP_DigestFinal_ex(md.get(), d.data(), &len), "EVP_DigestFinal_ex");
    return d;
}

// Credentials are read once; every login gets its own copy. Session::connect loads the token
// key, and loading (libp11's enumeration and login) is not thread-safe: callers connect from
// one thread at a time (docs/conventions.md §8).
struct Login {
    client::ClientConfig cfg;
    Secret pin, password;

    explicit Login(const std::string& path) : cfg(client::load_client_config(path)) {
        pin = hsm::read_secret(cfg.pin, "PIN: ");
        password = hsm::read_secret(cfg.password, "Password: ");
    }

    std::unique_ptr<client::Session> connect() const {
        auto pw = [this] { return password.clone(); };
        return client::Session::connect(cfg, pin, pw, pw);
    }
};

// A field of /proc/PID/status in KiB (VmRSS, VmHWM) or as a count (Threads); -1 if absent.
inline long status_kib(int pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line, key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
    return -1;
}

}  // namespace sfts::load
