#include "sfts/server/config.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/token.hpp"

namespace sfts::server {

namespace {

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

struct Option {
    const char* key;
    const char* default_value;
    const char* help;
    std::function<void(Config&, const std::string& key, const std::string& value)> apply;
};

const std::vector<Option>& options() {
    static const std::vector<Option> opts = {
        {"paths.state_dir", "/var/lib/sftsd", "CA and server certificates, CRL, databases",
         [](Config& c, const std::string&, const std::string& v) { c.pki.state_dir = v; }},
        {"hsm.module", hsm::kDefaultModulePath, "PKCS#11 module of the server's token (SoftHSM2 by default)",
         [](Config& c, const std::string&, const std::string& v) { c.pki.module_path = v; }},
        {"hsm.token", "pkcs11:token=sfts-server", "RFC 7512 URI selecting the server's token",
         [](Config& c, const std::string& k, const std::string& v) {
             try {
                 c.pki.token = hsm::ObjectUri::parse(v);
             } catch (const Error& e) {
                 fail(Errc::invalid_argument, k + ": " + e.what());
             }
             if (!c.pki.token.names_token()) fail(Errc::invalid_argument, k + ": the URI must name a token (token=...)");
         }},
        {"hsm.pin", "prompt", "where the token PIN comes from: file:PATH (mode 0600), env:NAME or prompt",
         [](Config& c, const std::string& k, const std::string& v) {
             try {
                 c.pin_source = hsm::SecretSource::parse(v);
             } catch (const Error& e) {
                 fail(Errc::invalid_argument, k + ": " + e.what());
             }
         }},
        {"hsm.ca_label", "sfts-ca", "label of the CA key pair and certificate in the token",
         [](Config& c, const std::string&, const std::string& v) { c.pki.ca_label = v; }},
        {"hsm.server_label", "sfts-server", "label of the TLS server key pair and certificate in the token",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server_label = v; }},
        {"pki.ca_common_name", "sfts CA", "subject CN of the CA certificate",
         [](Config& c, const std::string&, const std::string& v) { c.pki.ca.common_name = v; }},
        {"pki.organization", "", "subject O of the CA certificate (optional)",
         [](Config& c, const std::string&, const std::string& v) { c.pki.ca.organization = v; }},
        {"pki.ca_days", "3650", "CA certificate lifetime in days",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.ca.days = parse_int(k, v, 1, 36500); }},
        {"pki.server_common_name", "localhost", "subject CN of the TLS server certificate",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server.common_name = v; }},
        {"pki.server_dns", "localhost", "comma-separated DNS names for the server certificate's SAN",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server.dns_names = split_list(v); }},
        {"pki.server_ips", "127.0.0.1", "comma-separated IP addresses for the server certificate's SAN",
         [](Config& c, const std::string&, const std::string& v) { c.pki.server.ip_addresses = split_list(v); }},
        {"pki.server_days", "397", "TLS server certificate lifetime in days",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.server.days = parse_int(k, v, 1, 3650); }},
        {"pki.client_days", "365", "client certificate lifetime in days",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.client.days = parse_int(k, v, 1, 3650); }},
        {"pki.crl_days", "7", "days until a published CRL's nextUpdate",
         [](Config& c, const std::string& k, const std::string& v) { c.pki.crl_days = parse_int(k, v, 1, 365); }},
    };
    return opts;
}

}  // namespace

std::string Config::defaults_ini() {
    std::ostringstream o;
    std::string section;
    for (const auto& opt : options()) {
        std::string key = opt.key;
        auto dot = key.find('.');
        std::string sec = key.substr(0, dot);
        if (sec != section) {
            o << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
            section = sec;
        }
        o << "; " << opt.help << "\n" << key.substr(dot + 1) << " = " << opt.default_value << "\n";
    }
    return o.str();
}

Config default_config() {
    Config c;
    for (const auto& opt : options()) opt.apply(c, opt.key, opt.default_value);
    return c;
}

Config load_config(const std::string& path) {
    Config c = default_config();
    c.source_path = path;
    std::string text = read_file(path, 1 << 20);
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
    try {
        std::istringstream in(text);
        ini = new Poco::Util::IniFileConfiguration(in);
    } catch (const Poco::Exception& e) {
        fail(Errc::invalid_argument, path + ": " + e.displayText());
    }
    std::map<std::string, const Option*> known;
    for (const auto& opt : options()) known[opt.key] = &opt;
    Poco::Util::AbstractConfiguration::Keys sections;
    ini->keys(sections);
    for (const auto& sec : sections) {
        Poco::Util::AbstractConfiguration::Keys keys;
        ini->keys(sec, keys);
        if (keys.empty() && ini->has(sec)) fail(Errc::invalid_argument, path + ": option '" + sec + "' outside a section");
        for (const auto& k : keys) {
            std::string full = sec + "." + k;
            auto it = known.find(full);
            if (it == known.end()) fail(Errc::invalid_argument, path + ": unknown option '" + full + "'");
            it->second->apply(c, full, ini->getString(full));
        }
    }
    return c;
}

}  // namespace sfts::server
