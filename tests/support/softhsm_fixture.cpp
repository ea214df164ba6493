#include "softhsm_fixture.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>
#include <random>
#include <stdexcept>

#include "sfts/hsm/key_provider.hpp"

namespace sfts::test {

namespace {

std::string make_temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sfts-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

std::string random_tag() {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", rd());
    return buf;
}

}  // namespace

TempDir::TempDir() : path_(make_temp_dir()) {}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

const std::string& softhsm_dir() {
    static TempDir dir;  // removed at exit with every token in it
    static const std::string tokens = [] {
        std::string t = dir.file("tokens");
        std::filesystem::create_directory(t);
        write_text(dir.file("softhsm2.conf"), "directories.tokendir = " + t +
                                                  "\nobjectstore.backend = file\nlog.level = ERROR\n"
                                                  "slots.removable = false\n");
        ::setenv("SOFTHSM2_CONF", dir.file("softhsm2.conf").c_str(), 1);
        return t;
    }();
    return tokens;
}

const std::string& module_path() {
    static const std::string p = [] {
        softhsm_dir();
        if (const char* m = std::getenv("SFTS_TEST_PKCS11_MODULE"); m && *m) return std::string(m);
        return std::string(hsm::kDefaultModulePath);
    }();
    return p;
}

namespace {

// libp11's engine sees only the tokens that exist when a process first loads a token key, so
// every token a test process will use is made up front, before any test runs a key through it.
constexpr int kPoolSize = 48;

struct PooledToken {
    std::string label;
    Secret pin, so_pin;
};

std::vector<PooledToken>& pool() {
    static std::vector<PooledToken> tokens = [] {
        std::vector<PooledToken> v;
        auto module = hsm::Module::load(module_path());
        for (int i = 0; i < kPoolSize; ++i) {
            PooledToken t{"tok" + std::to_string(i) + "-" + random_tag(), Secret("user-" + random_tag()),
                          Secret("so-" + random_tag())};
            module->init_token(t.label, t.so_pin, t.pin);
            v.push_back(std::move(t));
        }
        return v;
    }();
    return tokens;
}

std::mutex g_pool_mutex;

}  // namespace

TestToken::TestToken() {
    std::lock_guard lock(g_pool_mutex);
    auto& p = pool();
    if (p.empty()) throw std::runtime_error("test token pool exhausted: raise kPoolSize in softhsm_fixture.cpp");
    PooledToken t = std::move(p.back());
    p.pop_back();
    label = t.label;
    pin = std::move(t.pin);
    so_pin = std::move(t.so_pin);
    module = hsm::Module::load(module_path());
    uri.token = label;
    token = std::make_unique<hsm::Token>(module, uri);
}

CommandResult run(const std::string& command) {
    std::string full = command + " 2>&1";
    FILE* p = ::popen(full.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed: " + command);
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = ::pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

Errc kind_of(const std::function<void()>& f, std::string* message) {
    try {
        f();
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.kind();
    }
    return Errc::ok;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace sfts::test
