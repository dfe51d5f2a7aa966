// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for the IPv4 /24 summary (pw_src4): a source from a /24 without zone entries or bans
// skips the classification and the ban check, so every /24 that holds an entry of any kind, a
// prefix of any length or a ban must be marked in the half the data plane reads, whoever wrote
// it (a config, pbxwallctl, the data plane), and must stay marked until a rebuild finds it gone.
#include "fixtures.hpp"

#include "policy.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace pbxwall::bpftest {

namespace {

using namespace std::chrono_literals;

__u32 hostOrder(const std::string& text)
{
    const Addr a = parseAddr(text);
    __u32 raw;
    std::memcpy(&raw, a.bytes.data() + 12, 4);
    return ntohl(raw);
}

// Is the /24 of an IPv4 address marked in the half the data plane reads?
bool marked(Harness& h, const std::string& text)
{
    const auto g = h.maps().gen.lookup(0);
    REQUIRE(g);
    REQUIRE(g->src4_built == 1);
    return h.maps().src4.holds(g->ban_half & 1, hostOrder(text));
}

struct Probe {
    const char* src;
    bool marked;
    __u32 reason;
    pw_zone zone;
};

void checkProbes(Harness& h, const std::vector<Probe>& probes, const std::string& when)
{
    for (const Probe& p : probes) {
        INFO(when << ": " << p.src);
        CHECK(marked(h, p.src) == p.marked);
        const Peer peer{p.src, p.src};
        const Outcome o = h.run(ip(Family::V4, peer, kHost).udp(40000, 20001).bytes());
        REQUIRE(o.moved.size() == 1);
        CHECK(o.moved[0].reason == p.reason);
        CHECK(o.moved[0].zone == p.zone);
    }
}

} // namespace

TEST_CASE("the /24 summary marks every zone entry and the classification still decides", "[bpf][zones][src4]")
{
    Harness h(kBasePass);
    PolicyStore store(h.maps());
    store.setZones({
        {parseCidr("198.18.230.7"), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)},    // a host entry
        {parseCidr("198.18.232.0/22"), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)}, // four /24s
        {parseCidr("198.18.240.128/26"), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)}, // inside one
        {parseCidr("198.18.208.0/20"), makeZoneEntry(std::nullopt, PW_ZONE_LOCAL)},  // a /20 chunk entry
        {parseCidr("198.19.0.0/16"), makeZoneEntry(std::nullopt, PW_ZONE_OTHER)},     // a top-level entry
    });
    const std::vector<Probe> probes = {
        {"198.18.230.7", true, PW_REASON_REJECT, PW_ZONE_REJECT},
        {"198.18.230.8", true, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET}, // same /24: classified
        {"198.18.229.255", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.231.0", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.231.255", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.232.0", true, PW_REASON_REJECT, PW_ZONE_REJECT},
        {"198.18.235.255", true, PW_REASON_REJECT, PW_ZONE_REJECT},
        {"198.18.236.0", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.240.127", true, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.240.150", true, PW_REASON_REJECT, PW_ZONE_REJECT},
        {"198.18.240.200", true, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.241.200", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.243.255", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.207.255", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.18.208.0", true, PW_REASON_UNLISTED_PASS, PW_ZONE_LOCAL},
        {"198.18.223.255", true, PW_REASON_UNLISTED_PASS, PW_ZONE_LOCAL},
        {"198.18.224.0", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        {"198.19.0.0", true, PW_REASON_UNLISTED_PASS, PW_ZONE_OTHER},
        {"198.19.127.1", true, PW_REASON_UNLISTED_PASS, PW_ZONE_OTHER},
        {"198.19.255.255", true, PW_REASON_UNLISTED_PASS, PW_ZONE_OTHER},
        {"198.18.1.10", true, PW_REASON_TRUSTED, PW_ZONE_TRUSTED}, // the config's prefixes
        {"198.18.3.7", true, PW_REASON_TRUSTED, PW_ZONE_TRUSTED},
        {"198.18.3.10", true, PW_REASON_REJECT, PW_ZONE_REJECT},
    };
    checkProbes(h, probes, "after the edit");

    // An erased prefix stays marked while the summary still holds the host half before the edit;
    // the next rebuild (pbxwalld's sweep) forgets it.
    store.eraseZone(parseCidr("198.18.232.0/22"));
    CHECK(marked(h, "198.18.233.1")); // the old half is still in the summary until a rebuild
    CHECK(h.action(ip(Family::V4, Peer{"198.18.233.1", "198.18.233.1"}, kHost).udp(40000, 20001).bytes()) == XDP_PASS);
    store.refreshBanFilter();
    CHECK_FALSE(marked(h, "198.18.233.1"));
    CHECK(marked(h, "198.18.230.7"));
    CHECK(marked(h, "198.19.200.1"));
}

TEST_CASE("the /24 summary marks every ban, from pbxwallctl and from the data plane", "[bpf][bans][src4]")
{
    Harness h(kBasePass);
    PolicyStore store(h.maps());
    const char* fresh = "198.18.77.7"; // a /24 nothing names
    REQUIRE_FALSE(marked(h, fresh));
    h.ban(fresh, 3600s); // written like pbxwallctl does, before any rebuild: both halves
    CHECK(h.maps().src4.holds(0, hostOrder(fresh)));
    CHECK(h.maps().src4.holds(1, hostOrder(fresh)));
    checkProbes(h,
                {{fresh, true, PW_REASON_BANNED, PW_ZONE_INTERNET},
                 {"198.18.77.8", true, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
                 {"198.18.78.7", false, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET}},
                "banned by pbxwallctl");
    // A rebuild keeps it while the ban lasts, and a zone edit keeps it too.
    store.refreshBanFilter();
    CHECK(marked(h, fresh));
    store.setZone(parseCidr("198.18.90.1"), makeZoneEntry(std::nullopt, PW_ZONE_REJECT));
    CHECK(marked(h, fresh));
    CHECK(h.action(ip(Family::V4, Peer{fresh, fresh}, kHost).udp(40000, 20001).bytes()) == XDP_DROP);
    // Lifted: the next rebuild forgets the /24.
    pw_ban_key key{};
    const Addr a = parseAddr(fresh);
    std::copy(a.bytes.begin(), a.bytes.end(), key.addr);
    REQUIRE(h.maps().bans.erase(key));
    store.refreshBanFilter();
    CHECK_FALSE(marked(h, fresh));
    CHECK(h.action(ip(Family::V4, Peer{fresh, fresh}, kHost).udp(40000, 20001).bytes()) == XDP_PASS);
}

TEST_CASE("a source from an unmarked /24 takes the interface's zone", "[bpf][zones][src4]")
{
    const std::string iface = GENERATE(std::string("trusted"), std::string("reject"), std::string("local"));
    std::string config = kBasePass;
    const std::string from = "name = \"lo\"\nzone = \"internet\"";
    const auto at = config.find(from);
    REQUIRE(at != std::string::npos);
    config.replace(at, from.size(), "name = \"lo\"\nzone = \"" + iface + "\"");
    Harness h(config);
    const pw_zone zone = iface == "trusted" ? PW_ZONE_TRUSTED : iface == "reject" ? PW_ZONE_REJECT : PW_ZONE_LOCAL;
    const __u32 reason = iface == "trusted"  ? PW_REASON_TRUSTED
                         : iface == "reject" ? PW_REASON_REJECT
                                             : PW_REASON_UNLISTED_PASS;
    INFO("interface zone " << iface);
    checkProbes(h,
                {{"198.18.77.7", false, reason, zone},
                 {"198.18.3.7", true, PW_REASON_TRUSTED, PW_ZONE_TRUSTED},
                 {"198.18.3.10", true, PW_REASON_REJECT, PW_ZONE_REJECT}},
                "interface " + iface);
}

} // namespace pbxwall::bpftest
