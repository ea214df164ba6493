#include "recent.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "sfts/error.hpp"
#include "sfts/files.hpp"

namespace sfts::tui {

namespace {

constexpr char kSep = '\t';  // never in a host name, a PKCS#11 URI (RFC 7512 escapes it) or a label we accept

bool clean(const std::string& s) { return s.find_first_of("\t\r\n") == std::string::npos; }

}  // namespace

std::string RecentServer::describe() const {
    return host + ":" + std::to_string(file_port) + "  " + token_uri + (key_label.empty() ? "" : "  key " + key_label);
}

std::string recent_path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    const char* home = std::getenv("HOME");
    std::string base = xdg && *xdg ? xdg : std::string(home && *home ? home : "/tmp") + "/.config";
    return base + "/sfts/tui-recent";
}

std::vector<RecentServer> parse_recent(const std::string& text) {
    std::vector<RecentServer> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::string::size_type start = 0;
        for (;;) {
            auto tab = line.find(kSep, start);
            f.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
            if (tab == std::string::npos) break;
            start = tab + 1;
        }
        if (f.size() != 6 || f[0].empty()) continue;
        RecentServer s;
        s.host = f[0];
        char* end = nullptr;
        long fp = std::strtol(f[1].c_str(), &end, 10);
        if (*end || fp < 1 || fp > 65535) continue;
        long ep = std::strtol(f[2].c_str(), &end, 10);
        if (*end || ep < 1 || ep > 65535) continue;
        s.file_port = static_cast<int>(fp);
        s.enroll_port = static_cast<int>(ep);
        s.token_uri = f[3];
        s.module = f[4];
        s.key_label = f[5];
        out.push_back(std::move(s));
    }
    return out;
}

std::string format_recent(const std::vector<RecentServer>& list) {
    std::string out;
    for (const auto& s : list) {
        if (!clean(s.host) || !clean(s.token_uri) || !clean(s.module) || !clean(s.key_label)) continue;
        out += s.host + kSep + std::to_string(s.file_port) + kSep + std::to_string(s.enroll_port) + kSep + s.token_uri +
               kSep + s.module + kSep + s.key_label + "\n";
    }
    return out;
}

std::vector<RecentServer> remember(std::vector<RecentServer> list, const RecentServer& s, std::size_t max) {
    list.erase(std::remove(list.begin(), list.end(), s), list.end());
    list.insert(list.begin(), s);
    if (list.size() > max) list.resize(max);
    return list;
}

std::vector<RecentServer> load_recent(const std::string& path) {
    if (!file_exists(path)) return {};
    try {
        return parse_recent(read_file(path, 64 * 1024));
    } catch (const Error&) {
        return {};
    }
}

void save_recent(const std::string& path, const std::vector<RecentServer>& list) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) make_dirs(path.substr(0, slash), 0700);
    write_file_atomic(path, format_recent(list), 0600);
}

}  // namespace sfts::tui
