#include <boost/test/unit_test.hpp>

#include <Poco/Logger.h>
#include <Poco/NullChannel.h>

#include "sfts/server/abuse.hpp"
#include "softhsm_fixture.hpp"

using namespace sfts;
using namespace sfts::server;

namespace {

constexpr std::int64_t kHour = 3600LL * 1000;

struct Env {
    test::TempDir dir;
    std::unique_ptr<db::Database> db = db::Database::open_sqlite(dir.file("sfts.db"));
    std::int64_t now = 1'700'000'000'000;
    Poco::Logger& log = [] () -> Poco::Logger& {
        auto& l = Poco::Logger::get("abuse-test");
        l.setChannel(new Poco::NullChannel);
        return l;
    }();
    AbuseConfig cfg = [] {
        AbuseConfig c;
        c.safe_list = {Cidr::parse("10.0.0.0/8"), Cidr::parse("2001:db8:ffff::/48")};
        return c;
    }();
    std::unique_ptr<AbuseGuard> guard() { return std::make_unique<AbuseGuard>(*db, cfg, [this] { return now; }, log); }
};

Poco::Net::IPAddress ip(const std::string& s) { return Poco::Net::IPAddress(s); }

}  // namespace

BOOST_AUTO_TEST_SUITE(abuse)

BOOST_AUTO_TEST_CASE(sources_group_ipv6_by_64) {
    BOOST_TEST(AbuseGuard::source_key(ip("192.0.2.7")) == "192.0.2.7");
    BOOST_TEST(AbuseGuard::source_key(ip("::ffff:192.0.2.7")) == "192.0.2.7");
    BOOST_TEST(AbuseGuard::source_key(ip("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64");
    BOOST_TEST(AbuseGuard::source_key(ip("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::/64");
    BOOST_TEST(AbuseGuard::source_key(ip("2001:db8:1:3::1")) != "2001:db8:1:2::/64");
}

BOOST_AUTO_TEST_CASE(cidr_parsing_and_matching) {
    auto c = Cidr::parse("192.168.0.0/16");
    BOOST_TEST(c.contains(ip("192.168.44.1")));
    BOOST_TEST(!c.contains(ip("192.169.0.1")));
    BOOST_TEST(c.contains(ip("::ffff:192.168.1.1")));
    BOOST_TEST(Cidr::parse("::1").contains(ip("::1")));
    BOOST_TEST(!Cidr::parse("::1").contains(ip("::2")));
    BOOST_TEST(Cidr::parse("0.0.0.0/0").contains(ip("203.0.113.5")));
    for (const char* bad : {"", "300.1.1.1", "10.0.0.0/33", "::/129", "10.0.0.0/x", "example.com"})
        BOOST_CHECK_THROW(Cidr::parse(bad), Error);
}

BOOST_AUTO_TEST_CASE(three_failures_block_and_the_block_expires) {
    Env e;
    auto g = e.guard();
    auto a = ip("198.51.100.7");
    BOOST_TEST(!g->admit_connection(a));
    BOOST_TEST(!g->failure(a, "login"));
    BOOST_TEST(!g->failure(a, "login"));
    BOOST_TEST(g->failure(a, "login"));
    auto why = g->admit_connection(a);
    BOOST_REQUIRE(why.has_value());
    BOOST_TEST(why->find("blocked") != std::string::npos);
    BOOST_TEST(!g->admit_connection(ip("198.51.100.8")).has_value());  // the neighbour is not blocked
    // A new guard (a restart) reads the block from the database.
    auto g2 = e.guard();
    BOOST_TEST(g2->admit_connection(a).has_value());
    e.now += 24 * kHour - 1;
    BOOST_TEST(g2->admit_connection(a).has_value());
    e.now += 2;
    BOOST_TEST(!g2->admit_connection(a).has_value());
}

BOOST_AUTO_TEST_CASE(failures_outside_the_window_do_not_count) {
    Env e;
    auto g = e.guard();
    auto a = ip("198.51.100.7");
    g->failure(a, "login");
    g->failure(a, "login");
    e.now += 24 * kHour + 1;
    BOOST_TEST(!g->failure(a, "login"));
    BOOST_TEST(!g->admit_connection(a).has_value());
}

BOOST_AUTO_TEST_CASE(repeat_offenders_are_blocked_longer) {
    Env e;
    auto g = e.guard();
    auto a = ip("2001:db8:5::1");
    for (int i = 0; i < 3; ++i) g->failure(a, "login");
    e.now += 24 * kHour + 1;  // the first block (24 h) is over
    for (int i = 0; i < 3; ++i) g->failure(ip("2001:db8:5::99"), "login");  // same /64
    auto b = e.db->find_block("2001:db8:5:0::/64");
    BOOST_REQUIRE(b.has_value());
    BOOST_TEST(b->offenses == 2);
    BOOST_TEST(b->until_ms == e.now + 48 * kHour);  // ban + one increment
}

BOOST_AUTO_TEST_CASE(safe_list_is_never_blocked_or_limited) {
    Env e;
    auto g = e.guard();
    auto a = ip("10.1.2.3");
    for (int i = 0; i < 10; ++i) BOOST_TEST(!g->failure(a, "login"));
    BOOST_TEST(!g->admit_connection(a).has_value());
    for (int i = 0; i < 1000; ++i) BOOST_TEST(g->admit_command(a));
    BOOST_TEST(e.db->list_blocks().empty());
    BOOST_TEST(g->safe(ip("2001:db8:ffff:1::1")));
}

BOOST_AUTO_TEST_CASE(token_buckets_refill_with_time) {
    Env e;
    e.cfg.commands_per_s = 10;
    e.cfg.command_burst = 5;
    e.cfg.failure_threshold = 1000;  // look at the limiter alone
    auto g = e.guard();
    auto a = ip("203.0.113.9");
    for (int i = 0; i < 5; ++i) BOOST_TEST(g->admit_command(a));
    BOOST_TEST(!g->admit_command(a));
    e.now += 100;  // one token back
    BOOST_TEST(g->admit_command(a));
    BOOST_TEST(!g->admit_command(a));
    e.now += 10'000;  // full again, never more than the burst
    for (int i = 0; i < 5; ++i) BOOST_TEST(g->admit_command(a));
    BOOST_TEST(!g->admit_command(a));
}

BOOST_AUTO_TEST_CASE(connection_caps_count_open_connections) {
    Env e;
    e.cfg.max_connections_per_source = 2;
    e.cfg.max_connections = 3;
    e.cfg.failure_threshold = 1000;
    auto g = e.guard();
    auto a = ip("203.0.113.1"), b = ip("203.0.113.2"), c = ip("203.0.113.3");
    BOOST_TEST(!g->open_connection(a).has_value());
    BOOST_TEST(!g->open_connection(a).has_value());
    BOOST_TEST(g->open_connection(a).has_value());  // per source
    BOOST_TEST(!g->open_connection(b).has_value());
    BOOST_TEST(g->open_connection(c).has_value());  // global
    g->connection_closed(a);
    BOOST_TEST(!g->open_connection(c).has_value());
}

// A source at its cap, or a full server, is refused at accept, before it takes a queue place
// (tests/load: a flood of queued over-cap connections crowded out a user's new login).
BOOST_AUTO_TEST_CASE(caps_are_checked_at_accept_too) {
    Env e;
    e.cfg.max_connections_per_source = 2;
    e.cfg.max_connections = 3;
    e.cfg.failure_threshold = 1000;
    auto g = e.guard();
    auto a = ip("203.0.113.1"), b = ip("203.0.113.2"), safe = ip("10.1.2.3");
    BOOST_TEST(!g->open_connection(a).has_value());
    BOOST_TEST(!g->admit_connection(a).has_value());  // one more may still come
    BOOST_TEST(!g->open_connection(a).has_value());
    auto why = g->admit_connection(a);
    BOOST_TEST_REQUIRE(why.has_value());
    BOOST_TEST(why->find("too many connections") != std::string::npos);
    BOOST_TEST(!g->admit_connection(b).has_value());
    BOOST_TEST(!g->admit_connection(safe).has_value());
    BOOST_TEST(!g->open_connection(safe).has_value());  // the third: the server is full
    BOOST_TEST(g->admit_connection(b).has_value());
    BOOST_TEST(g->admit_connection(safe).has_value());  // the global cap counts everyone
    g->connection_closed(safe);
    BOOST_TEST(!g->admit_connection(safe).has_value());
}

// Connections queued before their source was blocked are refused when a worker takes them up,
// and their failures are not written again.
BOOST_AUTO_TEST_CASE(a_source_blocked_while_queued_is_refused_at_open) {
    Env e;
    e.cfg.failure_threshold = 2;
    auto g = e.guard();
    auto a = ip("198.51.100.20");
    BOOST_TEST(!g->admit_connection(a).has_value());
    BOOST_TEST(!g->failure(a, "certificate"));
    BOOST_TEST(g->failure(a, "certificate"));
    auto why = g->open_connection(a);
    BOOST_TEST_REQUIRE(why.has_value());
    BOOST_TEST(why->find("blocked") != std::string::npos);
    BOOST_TEST(!g->failure(a, "certificate"));
    BOOST_TEST(e.db->auth_failures_since(AbuseGuard::source_key(a), 0) == 0u);  // cleared at the block, none since
}

BOOST_AUTO_TEST_CASE(account_delays_grow_and_the_cap_locks) {
    Env e;
    e.cfg.account_max_failures = 5;
    e.cfg.account_delay_base_ms = 500;
    auto g = e.guard();
    BOOST_TEST(g->login_delay(0).count() == 0);
    BOOST_TEST(g->login_delay(1).count() == 500);
    BOOST_TEST(g->login_delay(2).count() == 1000);
    BOOST_TEST(g->login_delay(4).count() == 4000);
    BOOST_TEST(g->login_delay(40).count() == 30000);  // capped
    db::User u;
    u.name = "carol";
    u.role = "user";
    e.db->create_user(u);
    for (int i = 1; i <= 5; ++i) BOOST_TEST(g->login_failed("carol") == i);
    auto row = e.db->find_user("carol");
    BOOST_TEST(g->account_locked(*row));
    g->login_succeeded(*row);
    BOOST_TEST(!g->account_locked(*e.db->find_user("carol")));
}

BOOST_AUTO_TEST_SUITE_END()
