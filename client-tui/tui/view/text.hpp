// Text measured in terminal columns (UTF-8, wide characters), clipped and wrapped for drawing.
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

}  // namespace sfts::tui
