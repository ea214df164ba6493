// The terminal UI's model without a terminal: formats, progress, panes, the keymap, forms,
// recent servers, the local listing and the layout arithmetic.
#define BOOST_TEST_MODULE tui_model
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <fstream>
#include <set>

#include "model/dialog.hpp"
#include "model/form.hpp"
#include "model/format.hpp"
#include "model/keymap.hpp"
#include "model/local_dir.hpp"
#include "model/log_buffer.hpp"
#include "model/pane.hpp"
#include "model/recent.hpp"
#include "model/rows.hpp"
#include "model/transfer.hpp"
#include "sfts/error.hpp"
#include "view/layout.hpp"
#include "view/text.hpp"

using namespace sfts;
using namespace sfts::tui;

namespace {

// Column widths and the ellipsis follow the locale, as on a UTF-8 terminal.
struct Utf8Locale {
    Utf8Locale() { BOOST_REQUIRE(std::setlocale(LC_ALL, "C.UTF-8") != nullptr); }
};
BOOST_TEST_GLOBAL_FIXTURE(Utf8Locale);

constexpr std::uint64_t MiB = 1024 * 1024;

bool contains(const std::vector<std::string>& lines, const std::string& s) {
    for (const auto& l : lines)
        if (l.find(s) != std::string::npos) return true;
    return false;
}

Entry file(std::string name, std::uint64_t size = 1) { return Entry{std::move(name), size, 0, "alice", false}; }
Entry dir(std::string name) { return Entry{std::move(name), 0, 0, "", true}; }

std::vector<std::string> names(const Pane& p) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < p.size(); ++i) out.push_back(p.row(i).name);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(formats)

BOOST_AUTO_TEST_CASE(sizes) {
    BOOST_TEST(human_size(0) == "0 B");
    BOOST_TEST(human_size(1023) == "1023 B");
    BOOST_TEST(human_size(1536) == "1.5 KiB");
    BOOST_TEST(human_size(200 * MiB) == "200.0 MiB");
    BOOST_TEST(compact_size(999) == "999");
    BOOST_TEST(compact_size(1536) == "1.5K");
    BOOST_TEST(compact_size(200 * MiB) == "200M");
    BOOST_TEST(compact_size(999 * 1024) == "999K");
    BOOST_TEST(compact_size(1000 * 1024) == "0.9M");  // never four digits
    for (std::uint64_t n : {0ull, 1ull, 1023ull, 1024ull, 99999ull, 1ull << 30, 5ull << 40, ~0ull})
        BOOST_TEST(compact_size(n).size() <= 6u, n);
}

BOOST_AUTO_TEST_CASE(eta) {
    BOOST_TEST(eta_text(0.0) == "0:00");
    BOOST_TEST(eta_text(6.2) == "0:07");  // rounded up: never promise sooner than it will be
    BOOST_TEST(eta_text(3723.0) == "1:02:03");
    BOOST_TEST(eta_text(std::nullopt) == "--:--");
    BOOST_TEST(eta_text(-1.0) == "--:--");
}

BOOST_AUTO_TEST_CASE(progress_line_has_the_termscp_shape) {
    BOOST_TEST(progress_text(50 * MiB, 200 * MiB, 10.0 * MiB) == "50.0 MiB / 200.0 MiB - 25% - ETA 0:15 - 10.0 MiB/s");
    BOOST_TEST(progress_text(0, 200 * MiB, 0) == "0 B / 200.0 MiB - 0% - ETA --:-- - -- B/s");
    BOOST_TEST(progress_text(200 * MiB, 200 * MiB, 1.0 * MiB) == "200.0 MiB / 200.0 MiB - 100% - ETA 0:00 - 1.0 MiB/s");
    BOOST_TEST(percent(199, 200) == 99);  // 100% only when done
    BOOST_TEST(percent(0, 0) == 100);
}

BOOST_AUTO_TEST_CASE(printable_escapes_control_and_invisible_characters) {
    BOOST_TEST(printable("a\x1b[2Jb\n") == "a\\x1b[2Jb\\n");
    BOOST_TEST(printable("gr\xc3\xbc\xc3\x9f") == "gr\xc3\xbc\xc3\x9f");  // UTF-8 stays
    BOOST_TEST(printable("tab\there\r") == "tab\\there\\r");
    BOOST_TEST(printable("a\\x1b") == "a\\\\x1b");                // a real backslash is told apart
    BOOST_TEST(printable("\xc2\x9b" "31m") == "\\u009b31m");       // C1 CSI: a terminal control too
    BOOST_TEST(printable("txt.\xe2\x80\xae" "exe") == "txt.\\u202eexe");  // right-to-left override
    BOOST_TEST(printable("bad\xff\xc3") == "bad\\xff\\xc3");         // not UTF-8: each byte
    BOOST_TEST(printable("\x7f") == "\\x7f");
    for (unsigned c = 0; c < 0x20; ++c) {
        std::string out = printable(std::string(1, static_cast<char>(c)));
        for (char o : out) BOOST_TEST(static_cast<unsigned char>(o) >= 0x20, c);
    }
    BOOST_TEST(!has_unsafe_text("a\\b \xc3\xbc"));
    BOOST_TEST(has_unsafe_text("a\x1b"));
    BOOST_TEST(terminal_safe("composed \\n text") == "composed \\n text");  // already safe: unchanged
    BOOST_TEST(terminal_safe("raw\x1b[2J") == "raw\\x1b[2J");
}

BOOST_AUTO_TEST_CASE(plural_forms) {
    BOOST_TEST(plural(0, "file", "files") == "0 files");
    BOOST_TEST(plural(1, "file", "files") == "1 file");
    BOOST_TEST(plural(2, "entry", "entries") == "2 entries");
    Pane p;
    p.set_entries({file("a")});
    BOOST_TEST(pane_info(p, true) == " 1 file ");
    BOOST_TEST(pane_info(p, false) == " 1 entry ");
    p.set_entries({file("a"), file("b")});
    BOOST_TEST(pane_info(p, true) == " 2 files ");
}

BOOST_AUTO_TEST_CASE(names_from_a_peer_are_drawn_escaped) {
    Entry evil{"x\x1b[2J\nline", 5, 0, "mall\x07ory", false};
    Columns c = pane_columns(38, true);
    std::string row = row_text(evil, c, false);
    BOOST_TEST(row.find('\x1b') == std::string::npos);
    BOOST_TEST(row.find('\n') == std::string::npos);
    BOOST_TEST(row.starts_with(" x\\x1b[2J\\nline"));
    std::string d = details(evil);
    BOOST_TEST(d.find("x\\x1b[2J\\nline") != std::string::npos);
    BOOST_TEST(d.find("by mall\\x07ory") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(progress)

BOOST_AUTO_TEST_CASE(rate_over_a_sliding_window) {
    RateMeter m(3.0);
    m.sample(0.0, 0);
    BOOST_TEST(m.rate() == 0.0);  // one sample says nothing
    for (int t = 1; t <= 10; ++t) m.sample(t, static_cast<std::uint64_t>(t) * MiB);
    BOOST_TEST(m.rate() == static_cast<double>(MiB), boost::test_tools::tolerance(1e-9));
    for (int t = 11; t <= 20; ++t) m.sample(t, 10 * MiB + static_cast<std::uint64_t>(t - 10) * 4 * MiB);
    BOOST_TEST(m.rate() == 4.0 * MiB, boost::test_tools::tolerance(1e-9));  // the old speed is forgotten
}

BOOST_AUTO_TEST_CASE(file_and_total_lines) {
    TransferProgress p({{"a.bin", 100 * MiB}, {"b.bin", 300 * MiB}}, 0.0);
    BOOST_TEST(p.count() == 2u);
    p.update(0, 50 * MiB, 5.0);
    BOOST_TEST(p.file_line() == "50.0 MiB / 100.0 MiB - 50% - ETA 0:05 - 10.0 MiB/s");
    BOOST_TEST(p.total_line() == "50.0 MiB / 400.0 MiB - 12% - ETA 0:35 - 10.0 MiB/s");
    p.update(1, 100 * MiB, 20.0);  // a.bin done, a third of b.bin
    BOOST_TEST(p.current().name == "b.bin");
    BOOST_TEST(p.total_done() == 200 * MiB);
    BOOST_TEST(p.file_line().starts_with("100.0 MiB / 300.0 MiB - 33% - ETA "));
    BOOST_TEST(p.total_line().starts_with("200.0 MiB / 400.0 MiB - 50% - ETA "));
}

BOOST_AUTO_TEST_CASE(an_empty_batch_is_complete) {
    TransferProgress p({}, 0.0);
    BOOST_TEST(p.total_line().starts_with("0 B / 0 B - 100%"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(panes)

BOOST_AUTO_TEST_CASE(sorted_parent_then_directories_then_files) {
    Pane p;
    p.set_entries({file("b"), dir("z"), file("a"), dir(".."), dir("c")});
    BOOST_TEST(names(p) == (std::vector<std::string>{"..", "c", "z", "a", "b"}));
}

BOOST_AUTO_TEST_CASE(cursor_moves_within_bounds) {
    Pane p;
    p.set_entries({file("a"), file("b"), file("c"), file("d"), file("e")});
    p.move(-1);
    BOOST_TEST(p.cursor() == 0u);
    p.move(2);
    BOOST_TEST(p.current()->name == "c");
    p.move(100);
    BOOST_TEST(p.current()->name == "e");
    p.home();
    BOOST_TEST(p.cursor() == 0u);
    p.end();
    BOOST_TEST(p.cursor() == 4u);
    p.page(-1, 3);  // a page of 3 rows moves 2: one row stays in view
    BOOST_TEST(p.cursor() == 2u);
}

BOOST_AUTO_TEST_CASE(the_cursor_follows_its_name_across_a_reload) {
    Pane p;
    p.set_entries({file("a"), file("b"), file("c")});
    p.select("b");
    p.set_entries({file("0"), file("a"), file("b"), file("c")});
    BOOST_TEST(p.current()->name == "b");
    p.set_entries({file("0")});  // gone: the cursor stays in range
    BOOST_TEST(p.current()->name == "0");
}

BOOST_AUTO_TEST_CASE(marks_select_several_files_not_directories) {
    Pane p;
    p.set_entries({dir(".."), dir("d"), file("a"), file("b"), file("c")});
    BOOST_TEST(!p.toggle_mark());  // ".."
    p.select("a");
    BOOST_TEST(p.toggle_mark());
    BOOST_TEST(p.current()->name == "b");  // Insert moves down, as in mc
    p.move(1);
    BOOST_TEST(p.toggle_mark());
    BOOST_TEST(p.mark_count() == 2u);
    auto sel = p.selection();
    BOOST_TEST_REQUIRE(sel.size() == 2u);
    BOOST_TEST(sel[0].name == "a");
    BOOST_TEST(sel[1].name == "c");
    p.select("c");
    p.toggle_mark();  // unmark
    BOOST_TEST(p.mark_count() == 1u);
    p.set_entries({file("b"), file("c")});  // "a" vanished: its mark goes
    BOOST_TEST(p.mark_count() == 0u);
}

BOOST_AUTO_TEST_CASE(without_marks_the_selection_is_the_current_file) {
    Pane p;
    p.set_entries({dir(".."), file("a")});
    BOOST_TEST(p.selection().empty());  // ".." is not a file
    p.move(1);
    BOOST_TEST_REQUIRE(p.selection().size() == 1u);
    BOOST_TEST(p.selection()[0].name == "a");
}

BOOST_AUTO_TEST_CASE(filter_by_text_or_pattern) {
    BOOST_TEST(matches_filter("Report.PDF", "report"));
    BOOST_TEST(matches_filter("report.pdf", "*.PDF"));
    BOOST_TEST(!matches_filter("report.pdf", "*.txt"));
    BOOST_TEST(matches_filter("anything", ""));
    Pane p;
    p.set_entries({dir(".."), file("a.txt"), file("b.pdf"), file("c.txt")});
    p.set_filter("txt");
    BOOST_TEST(names(p) == (std::vector<std::string>{"..", "a.txt", "c.txt"}));
    BOOST_TEST(p.current()->name == "a.txt");  // the first match, not ".."
    p.set_filter("nothing");
    BOOST_TEST(names(p) == std::vector<std::string>{".."});
    p.set_filter("");
    BOOST_TEST(p.size() == 4u);
}

BOOST_AUTO_TEST_CASE(scrolling_keeps_the_cursor_visible) {
    Pane p;
    std::vector<Entry> many;
    for (int i = 0; i < 100; ++i) many.push_back(file("f" + std::to_string(1000 + i)));
    p.set_entries(many);
    BOOST_TEST(p.top(10) == 0u);
    p.move(15);
    BOOST_TEST(p.top(10) == 6u);  // the cursor on the last row
    p.move(-10);
    BOOST_TEST(p.top(10) == 5u);  // on the first row
    p.end();
    BOOST_TEST(p.top(10) == 90u);
    p.set_filter("f100");  // shrinks to 10: no blank rows above
    BOOST_TEST(p.top(10) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(the_issue_keys_map_to_their_actions) {
    BOOST_TEST((lookup(Context::main, Key::tab) == Action::switch_pane));
    BOOST_TEST((lookup(Context::main, Key::up) == Action::up));
    BOOST_TEST((lookup(Context::main, Key::page_down) == Action::page_down));
    BOOST_TEST((lookup(Context::main, Key::home) == Action::home));
    BOOST_TEST((lookup(Context::main, Key::end) == Action::end));
    BOOST_TEST((lookup(Context::main, Key::enter) == Action::open));
    BOOST_TEST((lookup(Context::main, fkey(5)) == Action::transfer));
    BOOST_TEST((lookup(Context::main, Key::space) == Action::transfer));
    BOOST_TEST((lookup(Context::main, Key::insert) == Action::mark));
    BOOST_TEST((lookup(Context::main, fkey(8)) == Action::remove));
    BOOST_TEST((lookup(Context::main, Key::del) == Action::remove));
    BOOST_TEST((lookup(Context::main, fkey(2)) == Action::passwd));
    BOOST_TEST((lookup(Context::main, fkey(1)) == Action::help));
    BOOST_TEST((lookup(Context::main, key_char('?')) == Action::help));
    BOOST_TEST((lookup(Context::main, key_char('/')) == Action::filter));
    BOOST_TEST((lookup(Context::main, fkey(10)) == Action::quit));
    BOOST_TEST((lookup(Context::main, key_char('q')) == Action::quit));
    BOOST_TEST((lookup(Context::main, key_char('x')) == Action::none));
    // The same key means something else where text is typed or a question is open.
    BOOST_TEST((lookup(Context::form, key_char('q')) == Action::none));
    BOOST_TEST((lookup(Context::dialog, key_char('y')) == Action::yes));
    BOOST_TEST((lookup(Context::progress, Key::escape) == Action::cancel_transfer));
    BOOST_TEST((lookup(Context::progress, fkey(5)) == Action::none));  // no second transfer while one runs
}

BOOST_AUTO_TEST_CASE(one_action_per_key_in_each_context) {
    std::set<std::pair<int, int>> seen;
    for (const auto& b : keymap())
        BOOST_TEST(seen.insert({static_cast<int>(b.context), static_cast<int>(b.key)}).second, key_name(b.key));
}

BOOST_AUTO_TEST_CASE(function_bar_and_help_come_from_the_table) {
    auto bar = function_bar(Context::main);
    std::vector<std::string> labels;
    for (const auto& [k, l] : bar) labels.push_back(k + l);
    BOOST_TEST(labels == (std::vector<std::string>{"1Help", "2Passwd", "5Copy", "8Delete", "9Log", "10Quit"}));
    auto help = key_help(Context::main);
    BOOST_TEST(contains(help, "F5 Space"));
    BOOST_TEST(contains(help, "F8 Del"));
    BOOST_TEST(contains(help, "Up Down"));
    BOOST_TEST(contains(help, "F10 q ^C"));
    BOOST_TEST(contains(help, "^R r"));
}

// The help window lists every key of the table that has a help text, in the panes and while a
// transfer runs (the cancel keys were missing once): it cannot drift from what the keys do.
BOOST_AUTO_TEST_CASE(main_help_lists_every_bound_key_including_cancel) {
    std::vector<std::string> all = {"ls", "upload", "download", "delete", "update", "help", "exit"};
    auto help = main_help(all, false);
    BOOST_TEST(contains(help, "ls upload download delete update help exit"));
    BOOST_TEST(contains(help, "While a transfer runs:"));
    BOOST_TEST(contains(help, "Esc c F10 ^C   cancel the transfer (asks first)"));
    for (const auto& b : keymap()) {
        if (b.context != Context::main && b.context != Context::progress) continue;
        // every key appears on some line, its own or the one of the binding above it
        std::string name = key_name(b.key);
        BOOST_TEST(contains(help, name), "key " << name << " is missing from the help");
        if (b.help) BOOST_TEST(contains(help, b.help), b.help);
    }
    BOOST_TEST(!contains(help, "not for your role"));
}

BOOST_AUTO_TEST_CASE(keys_the_role_may_not_use_are_hidden) {
    std::vector<std::string> user = {"ls", "upload", "batch", "download", "update", "renew", "help", "exit"};
    auto enabled_in = [&](bool remote) { return [&, remote](Action a) { return role_allows(a, remote, user); }; };
    auto labels = [](const std::vector<std::pair<std::string, std::string>>& bar) {
        std::vector<std::string> out;
        for (const auto& [k, l] : bar) out.push_back(k + l);
        return out;
    };
    // The remote pane: no delete on the server for this role.
    BOOST_TEST(labels(function_bar(Context::main, enabled_in(true))) ==
               (std::vector<std::string>{"1Help", "2Passwd", "5Copy", "9Log", "10Quit"}));
    // The local pane: F8 deletes a local file, which needs no permission.
    BOOST_TEST(labels(function_bar(Context::main, enabled_in(false))) ==
               (std::vector<std::string>{"1Help", "2Passwd", "5Copy", "8Delete", "9Log", "10Quit"}));
    BOOST_TEST(!role_allows(Action::remove, true, user));
    BOOST_TEST(role_allows(Action::remove, false, user));
    BOOST_TEST(role_allows(Action::remove, true, {"ls", "delete"}));
    BOOST_TEST(!role_allows(Action::transfer, true, {"ls", "upload"}));  // download needs "download"
    BOOST_TEST(role_allows(Action::transfer, false, {"ls", "upload"}));
    BOOST_TEST(!role_allows(Action::passwd, false, {"ls"}));
    BOOST_TEST(role_allows(Action::help, true, {"ls"}));
    BOOST_TEST(role_allows(Action::remove, true, {}));  // unknown: the server decides
    auto help = main_help(user, true);
    BOOST_TEST(contains(help, "delete the selection (asks first) (not for your role)"));
    BOOST_TEST(!contains(main_help(user, false), "not for your role"));
}

BOOST_AUTO_TEST_CASE(text_keys) {
    BOOST_TEST(is_text(key_char('a')));
    BOOST_TEST(is_text(key_char(U'\u00fc')));
    BOOST_TEST(!is_text(Key::enter));
    BOOST_TEST(!is_text(Key::backspace));
    BOOST_TEST(!is_text(fkey(1)));
    BOOST_TEST(key_text(key_char('a')) == "a");
    BOOST_TEST(key_text(key_char(U'\u00fc')) == "\xc3\xbc");
    BOOST_TEST(key_text(key_char(U'\u20ac')) == "\xe2\x82\xac");
    BOOST_TEST(key_name(fkey(10)) == "F10");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(forms)

BOOST_AUTO_TEST_CASE(hidden_fields_never_display_their_value) {
    Form f;
    f.add("Host", "example");
    auto pin = f.add_hidden("PIN");
    f.set_focus(pin);
    for (char c : std::string("123456")) f.insert(std::string(1, c));
    BOOST_TEST(f[pin].secret.view() == "123456");
    BOOST_TEST(f[pin].text.empty());
    BOOST_TEST(f.display(pin).empty());
    f.erase();
    BOOST_TEST(f[pin].secret.view() == "12345");
    BOOST_TEST(f.display(0) == "example");
}

BOOST_AUTO_TEST_CASE(locked_fields_are_skipped_and_show_their_note) {
    Form f;
    f.add("a");
    f.add_locked("PIN", "from file:/x");
    f.add("b");
    BOOST_TEST(f.focus() == 0u);
    f.next();
    BOOST_TEST(f.focus() == 2u);
    BOOST_TEST(f.at_last());
    f.next();  // wraps
    BOOST_TEST(f.focus() == 0u);
    BOOST_TEST(f.at_first());
    f.prev();
    BOOST_TEST(f.focus() == 2u);
    BOOST_TEST(f.display(1) == "from file:/x");
}

BOOST_AUTO_TEST_CASE(erase_removes_a_whole_utf8_character) {
    Form f;
    f.add("name", "a\xc3\xbc");
    f.erase();
    BOOST_TEST(f[0].text == "a");
    auto h = f.add_hidden("pw");
    f.set_focus(h);
    f.insert("\xe2\x82\xac");
    f.erase();
    BOOST_TEST(f[h].secret.empty());
}

BOOST_AUTO_TEST_CASE(a_field_has_a_maximum_length) {
    Form f;
    f.add("x");
    f[0].max = 3;
    for (int i = 0; i < 10; ++i) f.insert("a");
    BOOST_TEST(f[0].text == "aaa");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(recent)

BOOST_AUTO_TEST_CASE(round_trip_and_most_recent_first) {
    RecentServer a{"files.example", 8443, 8444, "pkcs11:token=alice", "/usr/lib/softhsm/libsofthsm2.so", "sfts-client"};
    RecentServer b{"10.0.0.2", 9443, 9444, "pkcs11:token=card;serial=42", "", "k"};
    auto list = remember({}, a);
    list = remember(list, b);
    list = remember(list, a);  // again: moves to the front, no duplicate
    BOOST_TEST_REQUIRE(list.size() == 2u);
    BOOST_TEST((list[0] == a));
    auto back = parse_recent(format_recent(list));
    BOOST_TEST((back == list));
    std::vector<RecentServer> many;
    for (int i = 0; i < 20; ++i) many = remember(many, RecentServer{"h" + std::to_string(i), 1, 2, "t", "m", "k"});
    BOOST_TEST(many.size() == 8u);
    BOOST_TEST(many[0].host == "h19");
}

BOOST_AUTO_TEST_CASE(damaged_lines_are_skipped) {
    auto list = parse_recent("only\tthree\tfields\nh\t99999\t1\tt\tm\tk\nh\t1\t2\tt\tm\tk\n\n");
    BOOST_TEST_REQUIRE(list.size() == 1u);
    BOOST_TEST(list[0].host == "h");
}

BOOST_AUTO_TEST_CASE(saved_without_secrets_and_private) {
    char tmpl[] = "/tmp/tui-recent-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string path = dir + "/sub/tui-recent";
    save_recent(path, {RecentServer{"h", 1, 2, "pkcs11:token=t", "m", "k"}});
    BOOST_TEST(load_recent(path).size() == 1u);
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 077) == 0u);
    BOOST_TEST(load_recent(dir + "/absent").empty());
    std::system(("rm -rf " + dir).c_str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(local)

BOOST_AUTO_TEST_CASE(lists_files_and_directories) {
    char tmpl[] = "/tmp/tui-local-XXXXXX";
    std::string d = mkdtemp(tmpl);
    std::ofstream(d + "/a.txt") << "hello";
    ::mkdir((d + "/sub").c_str(), 0700);
    auto entries = list_local(d);
    Pane p;
    p.set_entries(entries);
    BOOST_TEST(names(p) == (std::vector<std::string>{"..", "sub", "a.txt"}));
    BOOST_TEST(p.row(2).size == 5u);
    BOOST_TEST(p.row(1).dir);
    BOOST_TEST(enter_dir(d, "sub") == d + "/sub");
    BOOST_TEST(enter_dir(d + "/sub", "..") == d);
    BOOST_TEST(enter_dir("/tmp", "..") == "/");
    BOOST_TEST(join_path("/", "x") == "/x");
    BOOST_TEST(absolute_dir(d + "/sub/..") == d);
    BOOST_CHECK_THROW(list_local(d + "/absent"), Error);
    BOOST_CHECK_THROW(absolute_dir(d + "/a.txt"), Error);
    BOOST_TEST(list_local("/").size() > 0u);
    for (const auto& e : list_local("/")) BOOST_TEST(e.name != "..");
    std::system(("rm -rf " + d).c_str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(log_buffer_keeps_the_newest_lines) {
    LogBuffer log(3);
    for (int i = 0; i < 5; ++i) log.add(0, "line " + std::to_string(i));
    BOOST_TEST_REQUIRE(log.lines().size() == 3u);
    BOOST_TEST(log.lines().front().ends_with(" line 2"));
    log.add(0, "evil\x1b[2J");
    BOOST_TEST(log.lines().back().ends_with(" evil\\x1b[2J"));  // no terminal escapes from peers
}

BOOST_AUTO_TEST_CASE(layout_fits_80x24_and_grows) {
    Layout l = main_layout(24, 80, false);
    BOOST_TEST(!l.too_small);
    BOOST_TEST(l.bar_y == 23);
    BOOST_TEST(l.pane_y + l.pane_h <= l.bar_y);
    BOOST_TEST(l.left_w + l.right_w == 80);
    BOOST_TEST(l.list_rows >= 10);
    BOOST_TEST(l.status_y == 22);  // the status line above the key bar
    BOOST_TEST(l.pane_y + l.pane_h == l.status_y);
    Layout with_log = main_layout(24, 80, true);
    BOOST_TEST(with_log.log_y + with_log.log_h == with_log.status_y);
    BOOST_TEST(with_log.list_rows >= 5);
    BOOST_TEST(main_layout(23, 80, false).too_small);
    BOOST_TEST(main_layout(24, 79, false).too_small);
    Layout big = main_layout(50, 200, true);
    BOOST_TEST(big.list_rows > l.list_rows);

    Columns narrow = pane_columns(38, true);  // 80 columns: the uploader moves to the details line
    BOOST_TEST(narrow.uploader == 0);
    BOOST_TEST(narrow.name >= 12);
    BOOST_TEST(1 + narrow.name + 1 + narrow.size + 1 + narrow.time == 38);
    Columns wide = pane_columns(48, true);
    BOOST_TEST(wide.uploader > 0);
    BOOST_TEST(wide.time > 0);
    BOOST_TEST(pane_columns(48, false).uploader == 0);
}

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(path_titles_lose_their_front_not_their_end) {
    // The 80-column case of the issue: "Local: /dev/shm/x/lo~" became the useless prefix.
    std::string t = path_title("Local: ", "/dev/shm/x/long/dir", 18);
    BOOST_TEST(t == "Local: \u2026/long/dir");
    BOOST_TEST(text_width(t) <= 18);
    BOOST_TEST(path_title("Local: ", "/dev/shm/x/long/dir", 40) == "Local: /dev/shm/x/long/dir");  // fits
    BOOST_TEST(path_title("Local: ", "/home/al/x/long/dir", 40, "/home/al") == "Local: ~/x/long/dir");
    BOOST_TEST(path_title("Local: ", "/home/al/x/long/dir", 16, "/home/al") == "Local: \u2026/dir");
    BOOST_TEST(path_title("Local: ", "/home/alice", 40, "/home/al") == "Local: /home/alice");  // not a prefix dir
    // Even the last name is too long: its end stays.
    std::string deep = path_title("Local: ", "/a/averyveryverylongdirectoryname", 20);
    BOOST_TEST(deep == "Local: \u2026irectoryname");
    BOOST_TEST(text_width(deep) == 20);
    for (int w = 1; w < 40; ++w) BOOST_TEST(text_width(path_title("Local: ", "/dev/shm/x/long/dir", w)) <= w, w);
}

BOOST_AUTO_TEST_CASE(clip_front_keeps_the_end) {
    BOOST_TEST(clip_front("abcdef", 10) == "abcdef");
    BOOST_TEST(clip_front("abcdef", 4) == "\u2026def");
    BOOST_TEST(clip_front("ab\xe4\xb8\xad\xe6\x96\x87", 3) == "\u2026\xe6\x96\x87");  // wide characters count 2
}

BOOST_AUTO_TEST_CASE(hints_are_cut_at_word_boundaries) {
    std::string hint = "(not shown; leave empty on first login)";
    std::string c = clip_words(hint, 17);
    BOOST_TEST(c == "(not shown; \u2026");  // not "(not shown; leav~"
    BOOST_TEST(text_width(c) <= 17);
    BOOST_TEST(clip_words(hint, 100) == hint);
    BOOST_TEST(clip_words("averyveryverylongword and more", 10).size() > 0u);
    BOOST_TEST(text_width(clip_words("averyveryverylongword and more", 10)) <= 10);
    for (int w = 1; w < 45; ++w) BOOST_TEST(text_width(clip_words(hint, w)) <= w, w);
}

BOOST_AUTO_TEST_CASE(dialog_text_wraps_at_word_boundaries) {
    std::string text = "The file being transferred is dropped: no partial file is kept on either side. Files "
                       "already transferred stay.";
    auto lines = wrap(text, 30);
    BOOST_TEST(lines.size() > 1u);
    std::string joined;
    for (const auto& l : lines) {
        BOOST_TEST(text_width(l) <= 30);
        BOOST_TEST(!l.ends_with(" "));
        joined += (joined.empty() ? "" : " ") + l;
    }
    BOOST_TEST(joined == text);  // every word whole, none lost
    auto names = wrap("Delete 1 file?\n  a.txt", 30);  // '\n' breaks; the indentation stays
    BOOST_TEST((names == std::vector<std::string>{"Delete 1 file?", "  a.txt"}));
}

BOOST_AUTO_TEST_SUITE_END()
