#include <cstdlib>

#include "sfts/client/client.hpp"
#include "sfts/error.hpp"
#include "sfts/files.hpp"
#include "sfts/hsm/token.hpp"
#include "sfts/ini.hpp"

namespace sfts::client {

namespace {

using Option = ini::Option<ClientConfig>;

std::string home() {
    const char* h = std::getenv("HOME");
    return h && *h ? h : "/tmp";
}

hsm::SecretSource source(const std::string& key, const std::string& v) {
    try {
        return hsm::SecretSource::parse(v);
    } catch (const Error& e) {
        fail(Errc::invalid_argument, key + ": " + e.what());
    }
}

const std::vector<Option>& options() {
    static const std::vector<Option> opts = {
        {"server.host", "127.0.0.1", "server name or address (must match its certificate)",
         [](ClientConfig& c, const std::string& k, const std::string& v) {
             if (v.empty() || v.find_first_of(" /") != std::string::npos) fail(Errc::invalid_argument, k + ": bad host '" + v + "'");
             c.host = v;
         }},
        {"server.file_port", "8443", "port of the file service",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.file_port = ini::parse_int(k, v, 1, 65535); }},
        {"server.enroll_port", "8444", "port of the enrollment service",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.enroll_port = ini::parse_int(k, v, 1, 65535); }},
        {"server.timeout_ms", "30000", "network deadline for each step",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.timeout_ms = ini::parse_int(k, v, 100, 3600000); }},
        {"server.source_address", "", "local address to connect from (multi-homed hosts); empty: chosen by the system",
         [](ClientConfig& c, const std::string&, const std::string& v) { c.source_address = v; }},
        {"server.connect_retries", "4",
         "new tries, with growing randomised pauses, when the server closes the connection before TLS "
         "begins (a busy server, or a blocked address); never after TLS or login failures. 0: no retry",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.connect_retries = ini::parse_int(k, v, 0, 20); }},
        {"server.connect_retry_ms", "10000", "the retries above end within this many ms of the first try",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.connect_retry_ms = ini::parse_int(k, v, 0, 600000); }},
        {"token.module", hsm::kDefaultModulePath, "PKCS#11 module of your smartcard or token",
         [](ClientConfig& c, const std::string&, const std::string& v) { c.module = v; }},
        {"token.uri", "pkcs11:token=sfts-client", "RFC 7512 URI selecting your token",
         [](ClientConfig& c, const std::string& k, const std::string& v) {
             try {
                 c.token = hsm::ObjectUri::parse(v);
             } catch (const Error& e) {
                 fail(Errc::invalid_argument, k + ": " + e.what());
             }
         }},
        {"token.key_label", "sfts-client", "label of your key pair and certificate in the token",
         [](ClientConfig& c, const std::string& k, const std::string& v) {
             if (v.empty() || v.size() > 64) fail(Errc::invalid_argument, k + ": 1 to 64 characters");
             c.key_label = v;
         }},
        {"token.pin", "prompt", "where the PIN comes from: prompt, file:PATH (0600) or env:NAME",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.pin = source(k, v); }},
        {"user.name", "", "your user name (for enrollment; afterwards your certificate says it)",
         [](ClientConfig& c, const std::string&, const std::string& v) { c.user = v; }},
        {"user.password", "prompt", "where the password comes from: prompt, file:PATH (0600) or env:NAME",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.password = source(k, v); }},
        {"cert.warn_days", "30", "warn on every command when your certificate expires within this many days (0: never)",
         [](ClientConfig& c, const std::string& k, const std::string& v) { c.warn_days = ini::parse_int(k, v, 0, 3650); }},
        {"paths.dir", "", "where ca.crt and client.crt are kept (default ~/.config/sfts)",
         [](ClientConfig& c, const std::string&, const std::string& v) { c.dir = v.empty() ? home() + "/.config/sfts" : v; }},
        {"paths.log", "", "the client's log file (default DIR/sfts.log; none turns it off)",
         [](ClientConfig& c, const std::string&, const std::string& v) { c.log_file = v; }},
    };
    return opts;
}

}  // namespace

std::string default_client_config_path() {
    if (const char* p = std::getenv("SFTS_CONFIG"); p && *p) return p;
    return home() + "/.config/sfts/sfts.conf";
}

std::string client_config_defaults_ini() { return ini::defaults_file(options()); }

ClientConfig load_client_config(const std::string& path) {
    ClientConfig c;
    ini::apply_defaults(c, options());
    if (!path.empty() && file_exists(path)) ini::apply_file(c, options(), path);
    if (c.log_file.empty()) c.log_file = c.dir + "/sfts.log";
    return c;
}

}  // namespace sfts::client
