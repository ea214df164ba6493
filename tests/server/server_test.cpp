#define BOOST_TEST_MODULE server
#include <boost/test/unit_test.hpp>

#include <map>

#include "sfts/server/commands.hpp"
#include "sfts/server/context.hpp"
#include "sfts/server/replay.hpp"
#include "sfts/log_format.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Message.h>

using namespace sfts;
using namespace sfts::server;
using db::Permission;
using proto::MsgType;

namespace {

// The seeded roles (server/db) and what each may run: the authorization matrix.
const std::map<std::string, std::set<Permission>> kRoles = {
    {"admin", {Permission::list, Permission::upload, Permission::download, Permission::remove, Permission::update,
               Permission::overwrite, Permission::admin}},
    {"user", {Permission::list, Permission::upload, Permission::download, Permission::update}},
    {"registered", {Permission::list, Permission::update}},
    {"unregistered", {Permission::update}},
};

const std::map<std::string, std::set<std::string>> kExpected = {
    {"admin", {"ls", "upload", "batch", "download", "delete", "update", "renew", "help", "exit"}},
    {"user", {"ls", "upload", "batch", "download", "update", "renew", "help", "exit"}},
    {"registered", {"ls", "update", "renew", "help", "exit"}},
    {"unregistered", {"update", "renew", "help", "exit"}},
};

}  // namespace

BOOST_AUTO_TEST_CASE(authorization_matrix) {
    for (const auto& [role, perms] : kRoles) {
        Caller caller{perms, false};
        for (const auto& cmd : command_table()) {
            bool want = kExpected.at(role).count(std::string(cmd.name)) > 0;
            BOOST_TEST(allowed(caller, cmd) == want, role << " / " << cmd.name);
        }
        auto names = allowed_commands(caller);
        BOOST_TEST(std::set<std::string>(names.begin(), names.end()) == kExpected.at(role));
    }
}

BOOST_AUTO_TEST_CASE(forced_password_change_allows_only_update) {
    Caller admin{kRoles.at("admin"), true};
    auto names = allowed_commands(admin);
    BOOST_TEST((std::set<std::string>(names.begin(), names.end()) == std::set<std::string>{"update", "help", "exit"}));
}

BOOST_AUTO_TEST_CASE(every_command_message_has_one_row) {
    std::set<MsgType> seen;
    for (const auto& c : command_table()) BOOST_TEST(seen.insert(c.type).second, c.name);
    BOOST_TEST(find_command(MsgType::upload_begin)->name == "upload");
    BOOST_TEST(find_command(MsgType::upload_chunk) == nullptr);
    BOOST_TEST(find_command(MsgType::batch_begin)->name == "batch");
    BOOST_TEST((find_command(MsgType::batch_begin)->needs == Permission::upload));
    BOOST_TEST(find_command(MsgType::batch_file) == nullptr);
}

BOOST_AUTO_TEST_CASE(replay_guard_with_injected_clock) {
    std::int64_t now = 1'700'000'000'000;
    ReplayGuard g(std::chrono::seconds(30), [&] { return now; });
    std::array<std::uint8_t, 16> n1{}, n2{};
    n2[0] = 1;
    BOOST_TEST((g.check("alice", now, n1) == ReplayGuard::Verdict::fresh));
    BOOST_TEST((g.check("alice", now + 1000, n1) == ReplayGuard::Verdict::replayed));
    BOOST_TEST((g.check("bob", now, n1) == ReplayGuard::Verdict::fresh));  // scoped per user
    BOOST_TEST((g.check("alice", now - 31'000, n2) == ReplayGuard::Verdict::stale));
    BOOST_TEST((g.check("alice", now + 31'000, n2) == ReplayGuard::Verdict::stale));
    BOOST_TEST((g.check("alice", now + 29'000, n2) == ReplayGuard::Verdict::fresh));
    // Forgotten only once no command carrying it could be fresh again.
    now += 59'000;
    BOOST_TEST((g.check("alice", now - 29'000, n2) == ReplayGuard::Verdict::replayed));
    now += 2 * 61'000;
    BOOST_TEST((g.check("alice", now, n1) == ReplayGuard::Verdict::fresh));
    BOOST_TEST(g.remembered() == 1u);
}

BOOST_AUTO_TEST_CASE(peer_text_is_truncated_for_logs_and_escaped_by_the_formatter) {
    BOOST_TEST(loggable("alice") == "alice");
    BOOST_TEST(loggable(std::string(500, 'x')).size() == 131u);
    // The escaping is the log formatter's, once, for every line (issue 13 item 8).
    Poco::AutoPtr<EscapingFormatter> fmt(new EscapingFormatter("%t"));
    std::string line;
    fmt->format(Poco::Message("sftsd", "upload '" + loggable("a\nFAKE LOG LINE\x1b[31m") + "' by alice", Poco::Message::PRIO_INFORMATION), line);
    BOOST_TEST(line == "upload 'a\\nFAKE LOG LINE\\x1b[31m' by alice");
}
