// The one log line format of sftsd and sfts: a POCO PatternFormatter whose message text goes
// through escape_text first, so that a name chosen by a peer (a newline, ESC [2J, a bidi
// override) can neither start a forged log line nor drive the terminal of whoever reads the log.
#pragma once

#include <Poco/PatternFormatter.h>

#include <string>

namespace sfts {

class EscapingFormatter : public Poco::PatternFormatter {
public:
    using Poco::PatternFormatter::PatternFormatter;
    void format(const Poco::Message& msg, std::string& text) override;
};

}  // namespace sfts
