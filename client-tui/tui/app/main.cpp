// sfts-tui: the two-pane terminal client. The same client library as the batch client; the
// PIN and passwords are typed unseen, or come from the file or variable the configuration names.
#include <unistd.h>

#include <clocale>
#include <iostream>
#include <string>

#include "app.hpp"
#include "sfts/error.hpp"

namespace {

constexpr const char* kUsage = R"(usage: sfts-tui [--config FILE] [--local DIR]

  --config FILE   client configuration (default $SFTS_CONFIG or ~/.config/sfts/sfts.conf);
                  the same file as the batch client's (see 'sfts config')
  --local DIR     the directory the local pane starts in (default: the current one)

Keys: F1 or ? in the program. Recent servers are kept in ~/.config/sfts/tui-recent (no secrets).
)";

}  // namespace

int main(int argc, char** argv) {
    std::setlocale(LC_ALL, "");  // UTF-8 names and line drawing, as the terminal's locale says
    sfts::tui::Options o;
    o.config_path = sfts::client::default_client_config_path();
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if ((a == "--config" || a == "--local") && i + 1 < argc) {
            (a == "--config" ? o.config_path : o.local_dir) = argv[++i];
            o.config_given = o.config_given || a == "--config";
            continue;
        }
        std::cerr << "sfts-tui: unknown or incomplete option " << a << "\n\n" << kUsage;
        return 1;
    }
    try {
        if (o.config_given && access(o.config_path.c_str(), R_OK) != 0)
            sfts::fail(sfts::Errc::not_found, "no configuration file " + o.config_path);
        sfts::tui::App app(std::move(o));
        return app.run();  // the terminal is restored before any message below is printed
    } catch (const sfts::Error& e) {
        std::cerr << "sfts-tui: " << sfts::errc_name(e.kind()) << ": " << e.what() << "\n";
        return sfts::exit_code(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "sfts-tui: internal error: " << e.what() << "\n";
        return sfts::exit_code(sfts::Errc::internal);
    }
}
