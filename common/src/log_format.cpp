#include "sfts/log_format.hpp"

#include <Poco/Message.h>

#include "sfts/text.hpp"

namespace sfts {

void EscapingFormatter::format(const Poco::Message& msg, std::string& text) {
    // Always escaped (not only when something is unsafe), so "\\" in a line always means a
    // backslash in the original and every line reads back the same way.
    Poco::Message safe(msg);
    safe.setText(escape_text(msg.getText()));
    safe.setSource(escape_text(msg.getSource()));
    Poco::PatternFormatter::format(safe, text);
}

}  // namespace sfts
