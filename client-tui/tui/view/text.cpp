#include "text.hpp"

#include <algorithm>
#include <cstdlib>
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

std::string ellipsis() { return MB_CUR_MAX > 1 ? "\u2026" : "..."; }

std::string clip_front(std::string_view s, int width) {
    if (width <= 0) return {};
    if (text_width(s) <= width) return std::string(s);
    std::string dots = ellipsis();
    int room = width - text_width(dots);
    if (room <= 0) return clip(dots, width, false);
    std::size_t i = 0;
    while (i < s.size() && text_width(s.substr(i)) > room) i += next_char(s, i).first;
    return dots + std::string(s.substr(i));
}

std::string path_title(std::string_view prefix, std::string_view path, int width, std::string_view home) {
    std::string p(path);
    if (!home.empty() && home != "/" && (path == home || (path.starts_with(home) && path[home.size()] == '/')))
        p = "~" + p.substr(home.size());
    int room = width - text_width(prefix);
    if (room <= 0) return clip(prefix, width);
    if (text_width(p) <= room) return std::string(prefix) + p;
    std::string dots = ellipsis();
    int tail_room = room - text_width(dots);
    // The longest tail that starts at a '/': whole directory names only.
    for (std::size_t i = p.find('/', 1); tail_room > 0 && i != std::string::npos; i = p.find('/', i + 1))
        if (text_width(std::string_view(p).substr(i)) <= tail_room) return std::string(prefix) + dots + p.substr(i);
    return std::string(prefix) + clip_front(p, room);  // even the last name is too long
}

std::string clip_words(std::string_view s, int width) {
    if (width <= 0) return {};
    if (text_width(s) <= width) return std::string(s);
    std::string dots = ellipsis();
    int room = width - 1 - text_width(dots);
    std::string head = room > 0 ? clip(s, room, false) : std::string();
    // Cut at the last space within head when there is one and it keeps something.
    if (head.size() < s.size() && s[head.size()] != ' ') {
        auto sp = head.rfind(' ');
        if (sp != std::string::npos && sp > 0) head.resize(sp);
    }
    while (!head.empty() && head.back() == ' ') head.pop_back();
    if (head.empty()) return clip(s, width);
    return head + " " + dots;
}

}  // namespace sfts::tui
