// Hermetic tokens for tests: every test process gets its own SoftHSM2 token directory
// (SOFTHSM2_CONF points into a temporary directory removed at exit), and every test case
// makes its own throwaway token with a unique label.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "sfts/error.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/hsm/uri.hpp"
#include "sfts/secret.hpp"

namespace sfts::test {

// A temporary directory removed (recursively) when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Sets SOFTHSM2_CONF for this process (once, before the module is first loaded) and returns
// the token directory.
const std::string& softhsm_dir();

const std::string& module_path();

// A fresh token of its own for one test (from a per-process pool made before any key is loaded).
class TestToken {
public:
    TestToken();
    std::string label;
    Secret pin;
    Secret so_pin;
    hsm::ObjectUri uri;  // token=label
    std::shared_ptr<hsm::Module> module;
    std::unique_ptr<hsm::Token> token;
};

struct CommandResult {
    int status;
    std::string output;  // stdout and stderr together
};
// Runs a shell command (test oracles such as the openssl CLI); never for secrets.
CommandResult run(const std::string& command);

// The kind of sfts::Error that f throws (Errc::ok when it throws nothing); its text in *message.
Errc kind_of(const std::function<void()>& f, std::string* message = nullptr);

// Writes text to a file (tests only).
void write_text(const std::string& path, const std::string& text);

}  // namespace sfts::test
