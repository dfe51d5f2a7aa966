// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for the bans the data plane sets: for a source over its SIP budget (rate strikes),
// for an IPv6 source per ipv6_prefix, for a trap port, their pw_events records, and a full ban
// table. Stateful: each case runs a sequence of frames through one harness and checks every
// verdict (action, reason, exactly one counter moved).
#include "fixtures.hpp"
#include "sip_support.hpp"
#include "sip_fixture_support.hpp"

#include "state.hpp"

#include <linux/pkt_cls.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace pbxwall::bpftest {

using test::Packet;
using test::TcpFlags;
using namespace sipfx;
using namespace sipcommon;
using namespace std::chrono_literals;

namespace {

// a1 and a2 keyed apart (budgets and bans per address, with sipConfig's burst 1 and ban_after
// 3): a1 uses up its budget and is banned on its third strike, by address; a2 keeps its own
// budget throughout (two packets within it).
void checkKeyedApart(Harness& h, const char* a1, const char* a2)
{
    checkVerdict(h, expect("a1 #1", sipUdpFrom(a1), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect("a1 #2", sipUdpFrom(a1), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect("a1 #3", sipUdpFrom(a1), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect("a2 has its own budget", sipUdpFrom(a2), PW_REASON_SIP_RESPONSIVE));
    CHECK(hasRateKey(h, a1));
    CHECK(hasRateKey(h, a2));
    CHECK(h.maps().rate.keys().size() == 2);
    checkVerdict(h, expect("a1 (strike 2)", sipUdpFrom(a1), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect("a1 (strike 3) bans it", sipUdpFrom(a1), PW_REASON_RATE_LIMITED));
    const auto b = h.maps().bans.lookup(addrKey(a1));
    REQUIRE(b.has_value());
    CHECK(b->prefix == 0); // a ban of the address
    CHECK(h.maps().bans.keys().size() == 1);
    checkVerdict(h, expect("a1 is banned", sipUdpFrom(a1), PW_REASON_BANNED));
    checkVerdict(h, expect("a2 is not", sipUdpFrom(a2), PW_REASON_SIP_RESPONSIVE));
}

} // namespace

TEST_CASE("an unknown source over its SIP budget is rate limited, then banned", "[bpf][sip][bans]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());
    const std::string src = addrOf(f, kScanner);

    for (unsigned i = 0; i < kBurst + 1; ++i)
        checkVerdict(h, expect(named(f, "within the budget #" + std::to_string(i + 1)), sipUdp(f, kScanner),
                               PW_REASON_SIP_RESPONSIVE));
    CHECK(hasRateKey(h, budgetKey64(f, kScanner)));
    for (unsigned i = 0; i + 1 < kBanAfter; ++i) {
        checkVerdict(h, expect(named(f, "over the budget #" + std::to_string(i + 1)), sipUdp(f, kScanner),
                               PW_REASON_RATE_LIMITED));
        CHECK_FALSE(h.banOf(src).has_value());
    }
    CHECK(h.events().empty());

    checkVerdict(h, expect(named(f, "the ban_after-th drop over the budget bans"), sipUdp(f, kScanner),
                           PW_REASON_RATE_LIMITED));
    checkDataPlaneBan(h, src, PW_BAN_RATE_LIMIT);
    checkOneEvent(h, src, PW_EVENT_BAN, PW_BAN_RATE_LIMIT);
    CHECK(h.maps().bans.keys().size() == 1);

    checkVerdict(h, expect(named(f, "the banned source drops as banned"), sipUdp(f, kScanner), PW_REASON_BANNED));
    checkVerdict(h, expect(named(f, "also over TCP"), sipTcp(f, kScanner), PW_REASON_BANNED));
    checkVerdict(h, expect(named(f, "another source keeps its own budget"), sipUdp(f, kScanner2),
                           PW_REASON_SIP_RESPONSIVE));
    CHECK(h.events().empty());
}

TEST_CASE("ban_after = 0 never bans for rate", "[bpf][sip][bans]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    std::string toml = sipConfig();
    toml.replace(toml.find("ban_after = 3"), 13, "ban_after = 0");
    Harness h(toml);

    for (unsigned i = 0; i < kBurst + 1; ++i)
        checkVerdict(h, expect(named(f, "within the budget"), sipUdp(f, kScanner), PW_REASON_SIP_RESPONSIVE));
    for (unsigned i = 0; i < 2 * kBanAfter; ++i)
        checkVerdict(h, expect(named(f, "over the budget"), sipUdp(f, kScanner), PW_REASON_RATE_LIMITED));
    CHECK(h.maps().bans.keys().empty());
    CHECK(h.events().empty());
}

TEST_CASE("IPv6 sources share a budget and a ban per ipv6_prefix", "[bpf][sip][bans]")
{
    SECTION("ipv6_prefix = 64")
    {
        Harness h(sipConfig());
        const char* a1 = "2001:db8:9:1::1";
        const char* a2 = "2001:db8:9:1:ffff:ffff:ffff:fffe"; // same /64
        const char* b = "2001:db8:9:2::1";                   // the next /64

        checkVerdict(h, expect("a1 #1", sipUdpFrom(a1), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h, expect("a1 #2", sipUdpFrom(a1), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h, expect("a2 in a1's /64 finds the budget used up", sipUdpFrom(a2), PW_REASON_RATE_LIMITED));
        checkVerdict(h, expect("b in another /64 has its own budget", sipUdpFrom(b), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h, expect("b #2", sipUdpFrom(b), PW_REASON_SIP_RESPONSIVE));
        {
            auto keys = h.maps().rate.keys();
            CHECK(keys.size() == 2);
            CHECK(hasRateKey(h, "2001:db8:9:1::"));
            CHECK(hasRateKey(h, "2001:db8:9:2::"));
        }

        // Strikes count per budget; the drop that reaches ban_after bans the budget's /64: one
        // entry, whichever address sent it, so that a host cannot fill pw_bans from its /64.
        checkVerdict(h, expect("a1 over the shared budget (strike 2)", sipUdpFrom(a1), PW_REASON_RATE_LIMITED));
        CHECK(h.maps().bans.keys().empty());
        checkVerdict(h, expect("a2 over the shared budget (strike 3)", sipUdpFrom(a2), PW_REASON_RATE_LIMITED));
        checkDataPlaneBan(h, a2, PW_BAN_RATE_LIMIT);
        checkOneEvent(h, a2, PW_EVENT_BAN, PW_BAN_RATE_LIMIT);
        REQUIRE(h.maps().bans.keys().size() == 1);
        CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:1::")).value().prefix == 64);
        checkVerdict(h, expect("a2 is banned", sipUdpFrom(a2), PW_REASON_BANNED));
        checkVerdict(h, expect("so is a1", sipUdpFrom(a1), PW_REASON_BANNED));
        checkVerdict(h, expect("and every address of the /64", sipUdpFrom("2001:db8:9:1::3"), PW_REASON_BANNED));
        checkVerdict(h, expect("its first address too", sipUdpFrom("2001:db8:9:1::"), PW_REASON_BANNED));
        checkVerdict(h, expect("b is not affected", sipUdpFrom(b), PW_REASON_RATE_LIMITED));
        checkVerdict(h, expect("nor is the /64 before", sipUdpFrom("2001:db8:9:0:ffff:ffff:ffff:ffff"),
                               PW_REASON_SIP_RESPONSIVE));
        CHECK(h.maps().bans.keys().size() == 1);

        // A registered phone in the banned /64 (a home network with an infected PC beside it)
        // is spared: a prefix ban drops the sources in it that are not known.
        h.addKnown("2001:db8:9:1::5060", 3600s);
        checkVerdict(h, expect("a known source in the banned /64 passes", sipUdpFrom("2001:db8:9:1::5060"),
                               PW_REASON_SIP_KNOWN));
        checkVerdict(h, expect("its neighbours stay banned", sipUdpFrom("2001:db8:9:1::5061"), PW_REASON_BANNED));

        // An exact ban of one IPv6 address (pbxwallctl ban add ADDR) names that address only.
        h.ban("2001:db8:9:3::7", 3600s);
        checkVerdict(h, expect("an address banned by itself", sipUdpFrom("2001:db8:9:3::7"), PW_REASON_BANNED));
        checkVerdict(h, expect("its neighbour is not", sipUdpFrom("2001:db8:9:3::8"), PW_REASON_SIP_RESPONSIVE));
        // A prefix ban that has ended bans nothing.
        h.banExpired("2001:db8:9:4::/64");
        checkVerdict(h, expect("an expired prefix ban", sipUdpFrom("2001:db8:9:4::9"), PW_REASON_SIP_RESPONSIVE));
        // A prefix ban's key is also an address: that address, known, is spared like the rest
        // of the prefix (the exact-ban check must not take the prefix ban for its own).
        h.ban("2001:db8:9:5::/64", 3600s);
        h.addKnown("2001:db8:9:5::", 3600s);
        checkVerdict(h, expect("a known source at a banned prefix's first address", sipUdpFrom("2001:db8:9:5::"),
                               PW_REASON_SIP_KNOWN));
        checkVerdict(h, expect("its unknown neighbour", sipUdpFrom("2001:db8:9:5::1"), PW_REASON_BANNED));
        // A prefix ban holds internet sources: a host the config puts in `local` or `other` is
        // banned by address only, and its internet neighbour's ban of the /64 spares it.
        h.ban("2001:db8:4:1::/64", 3600s);
        h.ban("2001:db8:2:1::/64", 3600s);
        checkVerdict(h, expect("an other-zone host in a banned /64", sipUdpFrom("2001:db8:4:1::9"), PW_REASON_SERVICE,
                               PW_ZONE_OTHER));
        checkVerdict(h, expect("a local-zone host in a banned /64", sipUdpFrom("2001:db8:2:1::9"), PW_REASON_SERVICE,
                               PW_ZONE_LOCAL));
        h.ban("2001:db8:4:1::9", 3600s);
        checkVerdict(h, expect("the other-zone host banned by address", sipUdpFrom("2001:db8:4:1::9"), PW_REASON_BANNED,
                               PW_ZONE_OTHER));
    }
    SECTION("a ban holds the sources in its own prefix only, whatever ipv6_prefix says now")
    {
        // A /64 ban left while ipv6_prefix is 56 (pbxwalld refits such bans; pbxwallctl may
        // have written one just before a reload): its key is also its /56's key.
        Harness h(sipConfig({.ipv6Prefix = 56}));
        h.ban("2001:db8:9:100::/64", 3600s);
        checkVerdict(h, expect("a source in the banned /64", sipUdpFrom("2001:db8:9:100::5"), PW_REASON_BANNED));
        checkVerdict(h, expect("a source of the same /56 outside it", sipUdpFrom("2001:db8:9:1ff::1"),
                               PW_REASON_SIP_RESPONSIVE));
    }
    SECTION("ipv6_prefix = 128")
    {
        // Two addresses of one /64: budgets and bans of the address.
        Harness h(sipConfig({.ipv6Prefix = 128}));
        checkKeyedApart(h, "2001:db8:9:1::1", "2001:db8:9:1::2");
        checkVerdict(h, expect("a2 then over its own budget", sipUdpFrom("2001:db8:9:1::2"), PW_REASON_RATE_LIMITED));
    }
    SECTION("ipv6_prefix = 56 and 96 mask inside and below the first 64 bits")
    {
        Harness h56(sipConfig({.ipv6Prefix = 56}));
        checkVerdict(h56, expect("/56: 2001:db8:9:101::1", sipUdpFrom("2001:db8:9:101::1"), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h56, expect("/56: 2001:db8:9:1ff::1 (same /56)", sipUdpFrom("2001:db8:9:1ff::1"),
                                 PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h56, expect("/56: 2001:db8:9:1aa:1:2:3:4 (same /56, budget used up)",
                                 sipUdpFrom("2001:db8:9:1aa:1:2:3:4"), PW_REASON_RATE_LIMITED));
        checkVerdict(h56, expect("/56: 2001:db8:9:201::1 (next /56)", sipUdpFrom("2001:db8:9:201::1"),
                                 PW_REASON_SIP_RESPONSIVE));
        CHECK(hasRateKey(h56, "2001:db8:9:100::"));
        CHECK(hasRateKey(h56, "2001:db8:9:200::"));
        CHECK(h56.maps().rate.keys().size() == 2);

        Harness h96(sipConfig({.ipv6Prefix = 96}));
        checkVerdict(h96, expect("/96: 2001:db8:9:1::1:1", sipUdpFrom("2001:db8:9:1::1:1"), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h96, expect("/96: 2001:db8:9:1::ffff:2 (same /96)", sipUdpFrom("2001:db8:9:1::ffff:2"),
                                 PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h96, expect("/96: 2001:db8:9:1::3 (same /96, budget used up)", sipUdpFrom("2001:db8:9:1::3"),
                                 PW_REASON_RATE_LIMITED));
        checkVerdict(h96, expect("/96: 2001:db8:9:1:0:1:0:1 (next /96)", sipUdpFrom("2001:db8:9:1:0:1:0:1"),
                                 PW_REASON_SIP_RESPONSIVE));
        CHECK(hasRateKey(h96, "2001:db8:9:1::"));
        CHECK(hasRateKey(h96, "2001:db8:9:1:0:1::"));
        CHECK(h96.maps().rate.keys().size() == 2);
    }
    SECTION("link-local sources (fe80::/10) have a budget and a ban per address")
    {
        // Every neighbour on the link shares fe80::/64, the PBX's router among them: a ban of
        // that /64 would take the router's neighbour discovery, and with it all IPv6 calls.
        Harness h(sipConfig());
        const char* a2 = "fe80::2:2"; // in the same fe80::/64 as a1: the router, say
        checkKeyedApart(h, "fe80::1:1", a2);
        checkVerdict(h, expect("a trap port hit of a2 bans a2 alone",
                                      Packet().eth().ipv6(a2, kHost.v6).udp(5060, kTrapPort),
                               PW_REASON_TRAP_PORT));
        CHECK(h.maps().bans.lookup(addrKey(a2)).value().prefix == 0);
        checkVerdict(h, expect("a third neighbour passes", sipUdpFrom("fe80::3:3"), PW_REASON_SIP_RESPONSIVE));
    }
    SECTION("IPv4 sources have a budget per address whatever ipv6_prefix says")
    {
        Harness h(sipConfig({.ipv6Prefix = 48}));
        checkVerdict(h, expect("198.18.9.1 #1", sipUdpFrom("198.18.9.1"), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h, expect("198.18.9.1 #2", sipUdpFrom("198.18.9.1"), PW_REASON_SIP_RESPONSIVE));
        checkVerdict(h, expect("198.18.9.1 #3", sipUdpFrom("198.18.9.1"), PW_REASON_RATE_LIMITED));
        checkVerdict(h, expect("198.18.9.2 has its own", sipUdpFrom("198.18.9.2"), PW_REASON_SIP_RESPONSIVE));
        CHECK(hasRateKey(h, "198.18.9.1"));
        CHECK(hasRateKey(h, "198.18.9.2"));
    }
}

TEST_CASE("a trap port bans every source but trusted and known ones", "[bpf][sip][bans][trap]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());

    struct Hit {
        const char* what;
        Peer src;
        pw_zone zone;
        bool tcp;
    };
    const Hit hits[] = {
        {"UDP from the internet", kScanner, PW_ZONE_INTERNET, false},
        {"TCP SYN from the internet", kScanner2, PW_ZONE_INTERNET, true},
        {"UDP from local", kLocal, PW_ZONE_LOCAL, false},
        {"TCP ACK from the other zone", kOther, PW_ZONE_OTHER, true},
    };
    size_t banned = 0;
    for (const Hit& hit : hits) {
        Packet p = hit.tcp ? ip(f, hit.src, kHost).tcp(40000, kTrapPort, hit.zone == PW_ZONE_OTHER ? TcpFlags::Ack : TcpFlags::Syn)
                           : ip(f, hit.src, kHost).udp(5060, kTrapPort).sip(kOptions);
        checkVerdict(h, expect(named(f, std::string(hit.what) + " to the trap port"), p, PW_REASON_TRAP_PORT, hit.zone));
        checkDataPlaneBan(h, addrOf(f, hit.src), PW_BAN_TRAP_PORT, hit.zone);
        checkOneEvent(h, addrOf(f, hit.src), PW_EVENT_BAN, PW_BAN_TRAP_PORT, hit.zone);
        CHECK(h.maps().bans.keys().size() == ++banned);
        checkVerdict(h, expect(named(f, std::string(hit.what) + ": then SIP drops as banned"), sipUdp(f, hit.src),
                               PW_REASON_BANNED, hit.zone));
        checkVerdict(h, expect(named(f, std::string(hit.what) + ": and the trap port too"),
                               ip(f, hit.src, kHost).udp(1, kTrapPort), PW_REASON_BANNED, hit.zone));
    }
    CHECK(h.events().empty());

    checkVerdict(h, expect(named(f, "trusted UDP to the trap port"), ip(f, kTrusted, kHost).udp(5060, kTrapPort),
                           PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
    checkVerdict(h, expect(named(f, "trusted TCP to the trap port"), ip(f, kTrusted, kHost).tcp(40000, kTrapPort),
                           PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
    CHECK_FALSE(h.banOf(addrOf(f, kTrusted)).has_value());
    CHECK(h.maps().bans.keys().size() == banned);
    CHECK(h.events().empty());

    checkVerdict(h, expect(named(f, "the port next to the trap is just unlisted"),
                           ip(f, kScanner3, kHost).udp(5060, kTrapPort + 1), PW_REASON_UNLISTED_DROP));
    CHECK_FALSE(h.banOf(addrOf(f, kScanner3)).has_value());

    // A known source (a registered phone) is dropped, not banned: one forged datagram with its
    // address would otherwise cut it off.
    h.addKnown(addrOf(f, kPhone), 3600s);
    checkVerdict(h, expect(named(f, "a known source to the trap port"), ip(f, kPhone, kHost).udp(5060, kTrapPort),
                           PW_REASON_TRAP_PORT));
    CHECK_FALSE(h.banOf(addrOf(f, kPhone)).has_value());
    CHECK(h.events().empty());
    checkVerdict(h, expect(named(f, "and its SIP still passes"), sipUdp(f, kPhone), PW_REASON_SIP_KNOWN));
}

TEST_CASE("the answer to the host's own flow from a trap port is a reply, not a trap hit", "[bpf][sip][bans][trap]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig(), Programs::IngressAndEgress);
    CHECK(h.runEgress(ip(f, kHost, kScanner).udp(kTrapPort, 53).payload({0x12, 0x34, 0x01, 0x00}).bytes()) == TC_ACT_OK);
    checkVerdict(h, expect(named(f, "the answer to the host's query from the trap port"),
                           ip(f, kScanner, kHost).udp(53, kTrapPort).payload({0x12, 0x34, 0x81, 0x80}), PW_REASON_REPLY));
    CHECK_FALSE(h.banOf(addrOf(f, kScanner)).has_value());
    checkVerdict(h, expect(named(f, "the same peer from another port is a trap hit"),
                           ip(f, kScanner, kHost).udp(54, kTrapPort), PW_REASON_TRAP_PORT));
    checkDataPlaneBan(h, addrOf(f, kScanner), PW_BAN_TRAP_PORT);
}

TEST_CASE("a full ban table still drops and reports PW_EVENT_BAN_FULL", "[bpf][sip][bans][trap]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig(), Programs::Ingress, {{PW_MAP_NAME_BANS, 2}});

    checkVerdict(h, expect(named(f, "first trap hit"), ip(f, kScanner, kHost).udp(1, kTrapPort), PW_REASON_TRAP_PORT));
    checkOneEvent(h, addrOf(f, kScanner), PW_EVENT_BAN, PW_BAN_TRAP_PORT);
    checkVerdict(h, expect(named(f, "second trap hit"), ip(f, kScanner2, kHost).udp(1, kTrapPort), PW_REASON_TRAP_PORT));
    checkOneEvent(h, addrOf(f, kScanner2), PW_EVENT_BAN, PW_BAN_TRAP_PORT);
    CHECK(h.maps().bans.keys().size() == 2);

    checkVerdict(h, expect(named(f, "third trap hit: the table is full"), ip(f, kScanner3, kHost).udp(1, kTrapPort),
                           PW_REASON_TRAP_PORT));
    checkOneEvent(h, addrOf(f, kScanner3), PW_EVENT_BAN_FULL, PW_BAN_TRAP_PORT);
    CHECK_FALSE(h.banOf(addrOf(f, kScanner3)).has_value());
    checkVerdict(h, expect(named(f, "the unbanned source hits the trap again"),
                           ip(f, kScanner3, kHost).tcp(40000, kTrapPort), PW_REASON_TRAP_PORT));
    checkOneEvent(h, addrOf(f, kScanner3), PW_EVENT_BAN_FULL, PW_BAN_TRAP_PORT);

    // A rate ban into the full table: the drops go on, the failure is reported.
    for (unsigned i = 0; i < kBurst + 1; ++i)
        checkVerdict(h, expect(named(f, "within the budget"), sipUdp(f, kScanner4), PW_REASON_SIP_RESPONSIVE));
    for (unsigned i = 0; i < kBanAfter; ++i)
        checkVerdict(h, expect(named(f, "over the budget"), sipUdp(f, kScanner4), PW_REASON_RATE_LIMITED));
    checkOneEvent(h, addrOf(f, kScanner4), PW_EVENT_BAN_FULL, PW_BAN_RATE_LIMIT);
    CHECK(h.maps().bans.keys().size() == 2);
    checkVerdict(h, expect(named(f, "still not banned, still over the budget"), sipUdp(f, kScanner4),
                           PW_REASON_RATE_LIMITED));

    checkVerdict(h, expect(named(f, "the banned ones stay banned"), sipUdp(f, kScanner), PW_REASON_BANNED));
    checkVerdict(h, expect(named(f, "trusted still passes"), ip(f, kTrusted, kHost).udp(1, kTrapPort),
                           PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

} // namespace pbxwall::bpftest
