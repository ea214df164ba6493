#include "log.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/NullChannel.h>

#include <mutex>

#include "sfts/files.hpp"
#include "sfts/log_format.hpp"

namespace sfts::client {

Poco::Logger& client_log(const ClientConfig& cfg) {
    static std::once_flag once;
    Poco::Logger& log = Poco::Logger::get("sfts");
    std::call_once(once, [&] {
        if (cfg.log_file == "none" || cfg.log_file.empty()) {
            log.setChannel(Poco::AutoPtr<Poco::Channel>(new Poco::NullChannel));
            return;
        }
        auto slash = cfg.log_file.rfind('/');
        if (slash != std::string::npos && slash > 0) make_dirs(cfg.log_file.substr(0, slash), 0700);
        Poco::AutoPtr<Poco::FileChannel> file(new Poco::FileChannel(cfg.log_file));
        file->setProperty("rotation", "1 M");
        file->setProperty("archive", "number");
        file->setProperty("purgeCount", "5");
        Poco::AutoPtr<EscapingFormatter> fmt(new EscapingFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p [%P] %t"));
        log.setChannel(Poco::AutoPtr<Poco::Channel>(new Poco::FormattingChannel(fmt, file)));
        log.setLevel(Poco::Message::PRIO_INFORMATION);
    });
    return log;
}

}  // namespace sfts::client
