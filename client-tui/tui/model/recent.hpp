// Recent servers for the connect screen: where to connect and with which token, never a secret.
// One line per server in ~/.config/sfts/tui-recent, most recent first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sfts::tui {

struct RecentServer {
    std::string host;
    int file_port = 8443;
    int enroll_port = 8444;
    std::string token_uri;
    std::string module;
    std::string key_label;
    bool operator==(const RecentServer&) const = default;
    std::string describe() const;  // "host:port  token"
};

std::string recent_path();  // $XDG_CONFIG_HOME/sfts/tui-recent or ~/.config/sfts/tui-recent

// Malformed lines are skipped: a damaged file costs the list, never the program.
std::vector<RecentServer> parse_recent(const std::string& text);
std::string format_recent(const std::vector<RecentServer>& list);
// s first, without duplicates, at most max entries.
std::vector<RecentServer> remember(std::vector<RecentServer> list, const RecentServer& s, std::size_t max = 8);

std::vector<RecentServer> load_recent(const std::string& path);  // empty when absent
void save_recent(const std::string& path, const std::vector<RecentServer>& list);

}  // namespace sfts::tui
