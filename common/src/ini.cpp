#include "sfts/ini.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <sstream>

#include "sfts/error.hpp"
#include "sfts/files.hpp"

namespace sfts::ini {

namespace {

// POCO's INI reader knows only ';' comments; the documented syntax (docs/configuration.md) also
// has '#', as in the shipped sftsd.conf.sample. Such lines are blanked (not removed, so line
// numbers stay) before POCO sees them.
std::string without_hash_comments(std::string text) {
    std::size_t line = 0;
    while (line < text.size()) {
        std::size_t end = text.find('\n', line);
        if (end == std::string::npos) end = text.size();
        std::size_t first = text.find_first_not_of(" \t", line);
        if (first < end && text[first] == '#') text.replace(line, end - line, end - line, ' ');
        line = end + 1;
    }
    return text;
}

}  // namespace

std::vector<RawEntry> read(const std::string& path) {
    std::string text = without_hash_comments(read_file(path, 1 << 20));
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> conf;
    try {
        std::istringstream in(text);
        conf = new Poco::Util::IniFileConfiguration(in);
    } catch (const Poco::Exception& e) {
        fail(Errc::invalid_argument, path + ": " + e.displayText());
    }
    // POCO splits keys at '.', so "[server]\nx.y = 1" or "[a.b]" make a tree deeper than
    // section.key. Walk all of it (iteratively: a long dotted key is a deep tree) and report every
    // key that holds a value by its full name; the option table then names any stray one.
    std::vector<RawEntry> out;
    Poco::Util::AbstractConfiguration::Keys sections;
    conf->keys(sections);
    for (const auto& sec : sections) {
        Poco::Util::AbstractConfiguration::Keys keys;
        conf->keys(sec, keys);
        if (keys.empty() && conf->has(sec)) fail(Errc::invalid_argument, path + ": option '" + sec + "' outside a section");
        std::vector<std::string> todo;
        for (const auto& k : keys) todo.push_back(sec + "." + k);
        while (!todo.empty()) {
            std::string key = std::move(todo.back());
            todo.pop_back();
            if (conf->has(key)) out.push_back({key, conf->getString(key)});
            Poco::Util::AbstractConfiguration::Keys sub;
            conf->keys(key, sub);
            for (const auto& k : sub) todo.push_back(key + "." + k);
        }
    }
    return out;
}

void fail_unknown(const std::string& path, const std::string& key) {
    fail(Errc::invalid_argument, path + ": unknown option '" + key + "'");
}

int parse_int(const std::string& key, const std::string& v, int lo, int hi) {
    try {
        std::size_t used = 0;
        long n = std::stol(v, &used);
        if (used == v.size() && n >= lo && n <= hi) return static_cast<int>(n);
    } catch (const std::exception&) {
    }
    fail(Errc::invalid_argument,
         key + ": must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", not '" + v + "'");
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, ',')) {
        auto b = cur.find_first_not_of(" \t");
        auto e = cur.find_last_not_of(" \t");
        if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    }
    return out;
}

std::string document(const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& rows) {
    std::ostringstream o;
    std::string section;
    for (const auto& [key, rest] : rows) {
        auto dot = key.find('.');
        std::string sec = key.substr(0, dot);
        if (sec != section) {
            o << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
            section = sec;
        }
        o << "; " << rest.second << "\n" << key.substr(dot + 1) << " = " << rest.first << "\n";
    }
    return o.str();
}

}  // namespace sfts::ini
