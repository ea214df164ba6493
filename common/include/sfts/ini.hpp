// INI configuration files as a table of options: each with its key, default and meaning, and a
// function that validates and applies a value. Unknown options and bad values are errors that
// name the option; the table also prints itself as a documented defaults file.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sfts::ini {

struct RawEntry {
    std::string key;  // "section.name"
    std::string value;
};

// Parses an INI file (POCO's syntax) into section.key entries; invalid_argument on options
// outside a section, io/not_found when unreadable.
std::vector<RawEntry> read(const std::string& path);

int parse_int(const std::string& key, const std::string& value, int lo, int hi);
std::vector<std::string> split_list(const std::string& value);

template <typename Config>
struct Option {
    const char* key;
    const char* default_value;
    const char* help;
    std::function<void(Config&, const std::string& key, const std::string& value)> apply;
};

template <typename Config>
void apply_defaults(Config& c, const std::vector<Option<Config>>& options) {
    for (const auto& o : options) o.apply(c, o.key, o.default_value);
}

void fail_unknown(const std::string& path, const std::string& key);

template <typename Config>
void apply_file(Config& c, const std::vector<Option<Config>>& options, const std::string& path) {
    for (const auto& e : read(path)) {
        const Option<Config>* found = nullptr;
        for (const auto& o : options)
            if (e.key == o.key) found = &o;
        if (!found) fail_unknown(path, e.key);
        found->apply(c, e.key, e.value);
    }
}

std::string document(const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& rows);

template <typename Config>
std::string defaults_file(const std::vector<Option<Config>>& options) {
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> rows;
    for (const auto& o : options) rows.push_back({o.key, {o.default_value, o.help}});
    return document(rows);
}

}  // namespace sfts::ini
