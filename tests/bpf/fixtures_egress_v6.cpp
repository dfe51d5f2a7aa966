// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Failed authentications of IPv6 peers, read at TC egress: an internet peer's count is its /64's;
// the count's first crossing of max_failures bans the address, a second within ban_seconds the
// /64; a known address in the /64 stays apart from the count.
#include "addr.hpp"
#include "egress_support.hpp"
#include "fixtures.hpp"
#include "state.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace pbxwall::bpftest {

using test::Packet;
using namespace egressfx;

// A /64's count is not one phone's: answers to a known address in it neither forgive the
// others' challenges nor add to their count.
TEST_CASE("a known IPv6 address stays apart from its /64's failure count", "[bpf][sip][egress][bans]")
{
    const Peer phone{"", "2001:db8:9:7::10"}, guesser{"", "2001:db8:9:7::66"}, booting{"", "2001:db8:9:7::20"};
    const auto to = [](Harness& h, Peer p, const char* status, const char* cseq) {
        h.runEgress(answer(Family::V6, p, response(status, cseq)).bytes());
    };
    {
        INFO("a busy phone's calls do not reset a guesser's challenges beside it");
        Harness h(kConfig, Programs::IngressAndEgress); // challenge_allowance 2, max_failures 3
        to(h, phone, "200 OK", "CSeq: 1 REGISTER");
        REQUIRE(known(h, Family::V6, phone));
        for (int i = 0; i < 5; ++i) {
            to(h, guesser, "401 Unauthorized", "CSeq: 1 REGISTER");
            to(h, phone, "407 Proxy Authentication Required", "CSeq: 2 INVITE");
            to(h, phone, "200 OK", "CSeq: 3 INVITE");
        }
        // The /64's count reached max_failures once: the guesser's address is banned.
        const auto b = h.maps().bans.lookup(addrKey("2001:db8:9:7::66"));
        REQUIRE(b.has_value());
        CHECK(b->prefix == 0);
        CHECK(b->cause == PW_BAN_AUTH_FAILURE);
        CHECK(h.maps().bans.keys().size() == 1);
    }
    {
        INFO("a phone's misdials do not count towards a ban of a neighbour that is booting");
        Harness h(kConfig, Programs::IngressAndEgress);
        to(h, phone, "200 OK", "CSeq: 1 REGISTER");
        to(h, phone, "404 Not Found", "CSeq: 2 INVITE");
        to(h, phone, "404 Not Found", "CSeq: 3 INVITE");
        to(h, booting, "403 Forbidden", "CSeq: 1 REGISTER");
        CHECK(h.maps().bans.keys().empty());
        // The booting neighbour's own failures count as before.
        to(h, booting, "403 Forbidden", "CSeq: 2 REGISTER");
        to(h, booting, "403 Forbidden", "CSeq: 3 REGISTER");
        CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:7::20")).has_value());
    }
}

// An internet peer's IPv6 failures count per /64, as its budget: a guesser that moves to a new
// address of its /64 after each failure is counted all the same. The count's first crossing of
// max_failures bans the address the answer went to, the second within ban_seconds the /64. A
// peer of a zone the config names counts per address.
TEST_CASE("auth failures of an IPv6 internet peer count per /64; of a named zone, per address",
          "[bpf][sip][egress][bans]")
{
    std::string config = kConfig;
    const std::string trusted = "trusted = [\"198.18.1.0/24\", \"2001:db8:1::/48\"]";
    config.replace(config.find(trusted), trusted.size(), trusted + "\nlocal = [\"2001:db8:2::/48\"]");
    Harness h(config, Programs::IngressAndEgress); // max_failures 3
    const auto forbidden = [&](const char* a) {
        h.runEgress(answer(Family::V6, Peer{"", a}, response("403 Forbidden", "CSeq: 1 REGISTER")).bytes());
    };
    const auto sipFromV6 = [&](const char* a) {
        return h.action(ip(Family::V6, Peer{"", a}, kHost).udp(5060, 5060)
                            .sip("OPTIONS sip:100@pbx SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n").bytes());
    };
    for (const char* a : {"2001:db8:9:7::1", "2001:db8:9:7::2", "2001:db8:9:7::3"}) {
        CHECK(h.maps().bans.keys().empty());
        forbidden(a);
    }
    const auto one = h.maps().bans.lookup(addrKey("2001:db8:9:7::3"));
    REQUIRE(one.has_value());
    CHECK(one->prefix == 0);
    CHECK(one->cause == PW_BAN_AUTH_FAILURE);
    CHECK(h.maps().bans.keys().size() == 1);
    CHECK(sipFromV6("2001:db8:9:7::3") == XDP_DROP);
    CHECK(sipFromV6("2001:db8:9:7::4") == XDP_PASS); // a neighbour that is not known yet
    for (const char* a : {"2001:db8:9:7::4", "2001:db8:9:7::5"}) {
        forbidden(a);
        CHECK(h.maps().bans.keys().size() == 1);
    }
    forbidden("2001:db8:9:7::6");
    const auto b = h.maps().bans.lookup(addrKey("2001:db8:9:7::"));
    REQUIRE(b.has_value());
    CHECK(b->prefix == 64);
    CHECK(b->cause == PW_BAN_AUTH_FAILURE);
    CHECK(h.maps().bans.keys().size() == 2);
    CHECK(sipFromV6("2001:db8:9:7::7") == XDP_DROP);

    // The local zone: three addresses of one /64, one failure each, ban nobody...
    for (const char* a : {"2001:db8:2:7::1", "2001:db8:2:7::2", "2001:db8:2:7::3"})
        forbidden(a);
    CHECK(h.maps().bans.keys().size() == 2);
    // ... and the third failure of one of them bans that address alone, each time.
    forbidden("2001:db8:2:7::1");
    forbidden("2001:db8:2:7::1");
    const auto l = h.maps().bans.lookup(addrKey("2001:db8:2:7::1"));
    REQUIRE(l.has_value());
    CHECK(l->prefix == 0);
    CHECK(h.maps().bans.keys().size() == 3);
    for (int i = 0; i < 3; ++i)
        forbidden("2001:db8:2:7::2");
    CHECK(h.maps().bans.lookup(addrKey("2001:db8:2:7::2")).value().prefix == 0);
    CHECK(h.maps().bans.keys().size() == 4);

    // A phone that registers beside a guesser in one /64 forgives the /64's challenges, not its
    // failures (a registration never does: the count runs to the end of its window): the
    // guesser's third failure bans it...
    forbidden("2001:db8:9:8::66");
    forbidden("2001:db8:9:8::66");
    h.runEgress(answer(Family::V6, Peer{"", "2001:db8:9:8::5"}, registered("Expires: 600\r\n")).bytes());
    CHECK(h.maps().bans.keys().size() == 4);
    forbidden("2001:db8:9:8::66");
    CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:8::66")).value().prefix == 0);
    // ... and three more from the /64 ban it; the phone, known now, still passes (a prefix ban
    // spares known sources).
    for (const char* a : {"2001:db8:9:8::67", "2001:db8:9:8::68", "2001:db8:9:8::69"})
        forbidden(a);
    CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:8::")).value().prefix == 64);
    CHECK(sipFromV6("2001:db8:9:8::70") == XDP_DROP);
    CHECK(sipFromV6("2001:db8:9:8::5") == XDP_PASS);
}

// The /64's count bans its prefix only when it crosses max_failures again within ban_seconds of
// the crossing that banned an address: one later bans an address again.
TEST_CASE("an IPv6 /64's second crossing bans the /64 only within ban_seconds of its first",
          "[bpf][sip][egress][bans]")
{
    Harness h(kConfig, Programs::IngressAndEgress); // max_failures 3, ban_seconds 60
    const auto forbidden = [&](const char* a) {
        h.runEgress(answer(Family::V6, Peer{"", a}, response("403 Forbidden", "CSeq: 1 REGISTER")).bytes());
    };
    for (int i = 0; i < 3; ++i)
        forbidden("2001:db8:9:6::1");
    CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:6::1")).value().prefix == 0);
    auto fail = h.maps().fails.lookup(addrKey("2001:db8:9:6::"));
    REQUIRE(fail.has_value());
    CHECK(fail->struck_ns != 0);
    // That crossing was 61 s ago.
    fail->struck_ns = monotonicNowNs() - 61'000'000'000ULL;
    h.maps().fails.update(addrKey("2001:db8:9:6::"), *fail);
    for (int i = 0; i < 3; ++i)
        forbidden("2001:db8:9:6::2");
    CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:6::2")).value().prefix == 0);
    CHECK_FALSE(h.maps().bans.lookup(addrKey("2001:db8:9:6::")).has_value());
    CHECK(h.maps().bans.keys().size() == 2);
    // The next crossing is within ban_seconds of that one.
    for (int i = 0; i < 3; ++i)
        forbidden("2001:db8:9:6::3");
    CHECK(h.maps().bans.lookup(addrKey("2001:db8:9:6::")).value().prefix == 64);
    CHECK_FALSE(h.maps().bans.lookup(addrKey("2001:db8:9:6::3")).has_value());
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

using namespace egressfx;

// The address a /64's first crossing bans is the one with most of its failures, not the one
// whose answer crossed: a neighbour's first 401 may cross once a stale phone used up the /64's
// challenge allowance.
TEST_CASE("an IPv6 /64's first crossing bans the address with most of its failures",
          "[bpf][sip][egress][bans]")
{
    Harness h(kConfig, Programs::IngressAndEgress); // challenge_allowance 2, max_failures 3
    const auto to = [&](const char* a, const char* status) {
        h.runEgress(answer(Family::V6, Peer{"", a}, response(status, "CSeq: 1 REGISTER")).bytes());
    };
    const char* stale = "2001:db8:9:4::10";
    const char* booting = "2001:db8:9:4::20";
    for (int i = 0; i < 4; ++i) // two challenges, then two failures
        to(stale, "401 Unauthorized");
    CHECK(h.maps().bans.keys().empty());
    to(booting, "401 Unauthorized"); // the third failure
    const auto b = h.maps().bans.lookup(addrKey(stale));
    REQUIRE(b.has_value());
    CHECK(b->prefix == 0);
    CHECK_FALSE(h.maps().bans.lookup(addrKey(booting)).has_value());
    CHECK(h.maps().bans.keys().size() == 1);
    CHECK(h.action(ip(Family::V6, Peer{"", booting}, kHost).udp(5060, 5060)
                       .sip("REGISTER sip:pbx SIP/2.0\r\nCSeq: 2 REGISTER\r\n\r\n").bytes()) == XDP_PASS);
}

// A prefix ban in force is kept when the /64's first crossing bans its first address (the two
// share a key in pw_bans): an administrator's ban of the /64, or a rate ban, stays.
TEST_CASE("an exact ban of a banned /64's first address leaves the /64's ban", "[bpf][sip][egress][bans]")
{
    Harness h(kConfig, Programs::IngressAndEgress);
    h.banForever("2001:db8:9:3::/64");
    for (int i = 0; i < 3; ++i)
        h.runEgress(answer(Family::V6, Peer{"", "2001:db8:9:3::"}, response("403 Forbidden", "CSeq: 1 REGISTER"))
                        .bytes());
    const auto b = h.maps().bans.lookup(addrKey("2001:db8:9:3::"));
    REQUIRE(b.has_value());
    CHECK(b->prefix == 64);
    CHECK(b->expires_ns == 0);
    CHECK(b->cause == PW_BAN_MANUAL);
    CHECK(h.action(ip(Family::V6, Peer{"", "2001:db8:9:3::5"}, kHost).udp(5060, 5060)
                       .sip("OPTIONS sip:pbx SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n").bytes()) == XDP_DROP);
}

} // namespace pbxwall::bpftest
