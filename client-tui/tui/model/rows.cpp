#include "rows.hpp"

#include "../view/text.hpp"
#include "format.hpp"

namespace sfts::tui {

std::string row_text(const Entry& e, const Columns& c, bool marked) {
    std::string line = marked ? "*" : " ";
    line += pad(printable(e.name) + (e.dir && e.name != ".." ? "/" : ""), c.name);
    if (c.size) line += " " + pad_left(e.name == ".." ? "UP" : e.dir ? "<DIR>" : compact_size(e.size), c.size);
    if (c.time) line += " " + pad(e.name == ".." ? "" : short_time(e.mtime_s), c.time);
    if (c.uploader) line += " " + pad(printable(e.uploader), c.uploader);
    return line;
}

std::string details(const Entry& e) {
    if (e.name == "..") return "parent directory";
    std::string s = printable(e.name);
    if (e.dir) return s + "/  directory  " + long_time(e.mtime_s);
    s += "  " + std::to_string(e.size) + " B  " + long_time(e.mtime_s);
    if (!e.uploader.empty()) s += "  by " + printable(e.uploader);
    return s;
}

std::string pane_info(const Pane& p, bool remote) {
    std::string info = " " + (remote ? plural(p.entries().size(), "file", "files")
                                     : plural(p.entries().size(), "entry", "entries")) + " ";
    if (p.mark_count()) info += "- " + std::to_string(p.mark_count()) + " marked ";
    if (!p.filter().empty()) info += "- filter: " + printable(p.filter()) + " ";
    return info;
}

}  // namespace sfts::tui
