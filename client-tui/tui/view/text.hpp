// Text measured in terminal columns (UTF-8, wide characters), clipped and wrapped for drawing.
// No curses here: it is built into the model library and unit-tested.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sfts::tui {

int text_width(std::string_view utf8);
// The longest prefix that fits in width columns; when cut, the last column shows '~' so a
// clipped name never looks complete.
std::string clip(std::string_view utf8, int width, bool mark_cut = true);
std::string pad(std::string_view utf8, int width);         // clipped, then padded with spaces
std::string pad_left(std::string_view utf8, int width);    // right-aligned
std::vector<std::string> wrap(std::string_view text, int width);  // at spaces; '\n' breaks

// "…" in a UTF-8 locale, "..." otherwise.
std::string ellipsis();
// The end of s that fits in width columns, an ellipsis first when cut.
std::string clip_front(std::string_view utf8, int width);
// A title prefix and a path in width columns, as Midnight Commander shows them: the home
// directory as "~", and when it is still too long the FRONT of the path goes, at a '/' when
// possible ("Local: /dev/shm/x/long/dir" -> "Local: …/long/dir"), so the directory you are in
// stays readable.
std::string path_title(std::string_view prefix, std::string_view path, int width, std::string_view home = {});
// s when it fits; else cut at the last space that leaves room for " …" (mid-word only when one
// word is longer than the line), so a hint never ends in half a word.
std::string clip_words(std::string_view utf8, int width);

}  // namespace sfts::tui
