// sftsd's configuration: one INI file, every option named, defaulted and validated here.
// An invalid value stops the program with a message naming the option.
#pragma once

#include <string>

#include "sfts/hsm/pin.hpp"
#include "sfts/pki/authority.hpp"

namespace sfts::server {

struct Config {
    pki::PkiConfig pki;
    hsm::SecretSource pin_source = hsm::SecretSource::parse("prompt");
    std::string source_path;  // the file it came from, or empty for defaults

    // Every option with its default, as a commented INI file (docs and `sfts-admin config`).
    static std::string defaults_ini();
};

// Loads path (INI). Unknown sections or keys and bad values are invalid_argument naming the
// option, e.g. "pki.ca_days: must be an integer from 1 to 36500".
Config load_config(const std::string& path);

// The built-in defaults, for a machine without a configuration file.
Config default_config();

}  // namespace sfts::server
