#include "text.hpp"

#include <algorithm>
#include <cwchar>

namespace sfts::tui {

namespace {

// One code point starting at s[i]: its byte length and its column width (invalid bytes: 1, 1).
std::pair<std::size_t, int> next_char(std::string_view s, std::size_t i) {
    std::mbstate_t st{};
    wchar_t wc = 0;
    std::size_t n = std::mbrtowc(&wc, s.data() + i, s.size() - i, &st);
    if (n == 0 || n == static_cast<std::size_t>(-1) || n == static_cast<std::size_t>(-2)) return {1, 1};
    int w = ::wcwidth(wc);
    return {n, w < 0 ? 1 : w};
}

}  // namespace

int text_width(std::string_view s) {
    int w = 0;
    for (std::size_t i = 0; i < s.size();) {
        auto [n, cw] = next_char(s, i);
        i += n;
        w += cw;
    }
    return w;
}

std::string clip(std::string_view s, int width, bool mark_cut) {
    if (width <= 0) return {};
    if (text_width(s) <= width) return std::string(s);
    int limit = mark_cut ? width - 1 : width;
    std::string out;
    int w = 0;
    for (std::size_t i = 0; i < s.size();) {
        auto [n, cw] = next_char(s, i);
        if (w + cw > limit) break;
        out.append(s.substr(i, n));
        w += cw;
        i += n;
    }
    if (mark_cut) out += std::string(static_cast<std::size_t>(width - 1 - w), ' ') + "~";
    return out;
}

std::string pad(std::string_view s, int width) {
    std::string out = clip(s, width);
    int w = text_width(out);
    if (w < width) out.append(static_cast<std::size_t>(width - w), ' ');
    return out;
}

std::string pad_left(std::string_view s, int width) {
    std::string out = clip(s, width);
    int w = text_width(out);
    return w < width ? std::string(static_cast<std::size_t>(width - w), ' ') + out : out;
}

std::vector<std::string> wrap(std::string_view text, int width) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto nl = text.find('\n', start);
        std::string_view para = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        // A paragraph's indentation is kept on each of its lines (help lists, names under a question).
        std::size_t indent = std::min(para.find_first_not_of(' '), para.size());
        if (indent * 2 > static_cast<std::size_t>(width)) indent = 0;
        para.remove_prefix(indent);
        width -= static_cast<int>(indent);
        std::size_t first_out = out.size();
        std::string line;
        std::size_t i = 0;
        while (i < para.size()) {
            auto sp = para.find(' ', i);
            std::string_view word = para.substr(i, sp == std::string_view::npos ? std::string_view::npos : sp - i);
            i = sp == std::string_view::npos ? para.size() : sp + 1;
            std::string candidate = line.empty() ? std::string(word) : line + " " + std::string(word);
            if (text_width(candidate) <= width) {
                line = std::move(candidate);
                continue;
            }
            if (!line.empty()) out.push_back(std::move(line));
            line = std::string(word);
            while (text_width(line) > width) {  // a word longer than the line: cut it
                std::string head = clip(line, width, false);
                out.push_back(head);
                line = line.substr(head.size());
            }
        }
        out.push_back(std::move(line));
        for (std::size_t k = first_out; k < out.size(); ++k) out[k].insert(0, indent, ' ');
        width += static_cast<int>(indent);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return out;
}

}  // namespace sfts::tui
