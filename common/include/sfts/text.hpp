// Making untrusted text safe to show to a person: log lines, audit fields printed by
// sfts-admin, file names in `sfts ls`, the TUI screen. A name chosen by a peer must never
// start a new log line, move the cursor or recolour a terminal.
#pragma once

#include <string>
#include <string_view>

namespace sfts {

// escape_text: one line of printable text, reversible.
//   printable ASCII          as is, except '\' which becomes "\\"
//   \n \r \t                 "\n" "\r" "\t"
//   other bytes < 0x20, 0x7f "\xHH" (ESC is "\x1b")
//   valid UTF-8              as is, except invisible or terminal-controlling code points
//                            (C1 controls U+0080..U+009F, U+061C, U+200B..U+200F,
//                            U+2028..U+202E, U+2060..U+2069, U+FEFF, U+FFF9..U+FFFB)
//                            which become "\uHHHH"
//   a byte that is not part of valid UTF-8 (stray continuation, overlong form, surrogate,
//   beyond U+10FFFF, truncated sequence)  "\xHH", one per byte
// So "\xHH" always stands for the raw byte HH and the result never holds a control byte.
std::string escape_text(std::string_view s);

// quote_name: a file or user name as GNU ls prints it (quoting style shell-escape): as is when
// it is made only of letters, digits, non-control UTF-8 and "%+,-./:=@_^" (and does not start
// with '~' or '#'); otherwise in single quotes ("it's" -> 'it'\''s'), with non-printable parts
// in $'...' using the escapes above ("a\nb" -> 'a'$'\n''b'). The empty name is ''. The result
// pasted into a POSIX shell (bash, zsh, ksh for $'...') gives back the original bytes.
std::string quote_name(std::string_view s);

// True when s shows nothing: empty, or only white space (U+0020, U+00A0, U+1680,
// U+2000..U+200A, U+202F, U+205F, U+3000) and the invisible code points listed above. Such a
// name prints as a blank: sfts refuses it for new files (client and server).
bool is_blank(std::string_view s);

// True when s has a byte or code point that escape_text would escape (other than '\').
bool has_unsafe_text(std::string_view s);

}  // namespace sfts
