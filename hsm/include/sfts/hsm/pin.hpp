// Where a PIN (or any secret) comes from: a file, an environment variable, or a no-echo prompt.
// Never argv, never a log line.
#pragma once

#include <string>
#include <string_view>

#include "sfts/secret.hpp"

namespace sfts::hsm {

struct SecretSource {
    enum class Kind { file, env, prompt, credential };
    Kind kind = Kind::prompt;
    std::string where;  // file path, variable or credential name; empty for prompt

    // "file:/path", "env:NAME", "prompt" or "credential:NAME" (systemd LoadCredential=: the file
    // $CREDENTIALS_DIRECTORY/NAME). Anything else is invalid_argument.
    static SecretSource parse(std::string_view spec);
    std::string describe() const;  // for messages: never contains the secret
};

// Reads the secret. A file must be a regular file readable by its owner only
// (no group or other permission bits), at most 4 KiB; one trailing newline is dropped.
// A prompt reads from the controlling terminal with echo off.
// An empty secret is invalid_argument.
Secret read_secret(const SecretSource& source, std::string_view prompt);

// Reads one line from the terminal with echo off (used for PINs and passwords).
// Fails with unavailable when there is no terminal.
Secret prompt_hidden(std::string_view prompt);

}  // namespace sfts::hsm
